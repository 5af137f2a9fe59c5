import type { Job, JobsFilter } from '@zimage/client';
import { describe, expect, it } from 'vitest';
import { HISTORY_DEPTH, HISTORY_PAGE_SIZE, historyPage, recentJobs } from '../src/history.ts';
import { completedJob } from './helpers/fixtures.ts';

/** An end user's jobs, newest first, answered as the gateway's `jobs` query would. */
function reader(count: number) {
  const jobs: Job[] = Array.from({ length: count }, (_, i) =>
    completedJob({
      id: `job_${String(count - i).padStart(3, '0')}`,
      prompt: `prompt ${count - i}`,
    }),
  );
  const asked: JobsFilter[] = [];
  return {
    asked,
    async jobs(filter: JobsFilter = {}) {
      asked.push(filter);
      const matching = jobs.filter((j) => !filter.search || j.prompt.includes(filter.search));
      const first = filter.first ?? 20;
      return {
        nodes: matching.slice(0, first),
        pageInfo: {
          hasNextPage: matching.length > first,
          hasPreviousPage: false,
          startCursor: null,
          endCursor: null,
        },
      };
    },
  };
}

describe('historyPage', () => {
  it('pages newest first, one request per page, and knows when nothing is older', async () => {
    const gateway = reader(HISTORY_PAGE_SIZE + 2);
    const first = await historyPage(gateway, 0);
    expect(first.jobs.map((j) => j.id)).toEqual([
      'job_007',
      'job_006',
      'job_005',
      'job_004',
      'job_003',
    ]);
    expect(first.hasOlder).toBe(true);
    const second = await historyPage(gateway, 1);
    expect(second.jobs.map((j) => j.id)).toEqual(['job_002', 'job_001']);
    expect(second.hasOlder).toBe(false);
    expect(gateway.asked).toEqual([{ first: HISTORY_PAGE_SIZE }, { first: 2 * HISTORY_PAGE_SIZE }]);
  });

  it('stops at the gateway’s largest page', async () => {
    const gateway = reader(HISTORY_DEPTH + 10);
    const last = await historyPage(gateway, 10_000);
    expect(last.index).toBe(HISTORY_DEPTH / HISTORY_PAGE_SIZE - 1);
    expect(last.hasOlder).toBe(false);
    expect(gateway.asked).toEqual([{ first: HISTORY_DEPTH }]);
  });
});

describe('recentJobs', () => {
  it('suggests the newest jobs, by id prefix or by prompt words', async () => {
    const gateway = reader(30);
    expect(await recentJobs(gateway, '')).toHaveLength(25);
    expect((await recentJobs(gateway, 'job_01')).map((j) => j.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `job_${String(19 - i).padStart(3, '0')}`),
    );
    expect((await recentJobs(gateway, 'prompt 7')).map((j) => j.id)).toEqual(['job_007']);
  });
});

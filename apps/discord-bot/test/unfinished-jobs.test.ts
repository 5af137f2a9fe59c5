import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UnfinishedJob } from '../src/job-runner.ts';
import { UNFINISHED_JOBS_FILE, UnfinishedJobs } from '../src/unfinished-jobs.ts';

function entry(interactionId: string, overrides: Partial<UnfinishedJob['message']> = {}) {
  return {
    interactionId,
    jobId: `job_${interactionId}`,
    userId: '1400000000000000010',
    pingWhenDone: true,
    attachmentLimitBytes: 25 * 1024 * 1024,
    message: {
      applicationId: '1400000000000000001',
      token: `secret-token-${interactionId}`,
      channelId: '1400000000000000003',
      guildId: '1400000000000000002',
      messageId: null,
      interactionCreatedAt: Date.parse('2026-01-01T12:00:00Z') + Number(interactionId),
      ...overrides,
    },
  } satisfies UnfinishedJob;
}

describe('UnfinishedJobs', () => {
  it('keeps entries across a reopen, with the message id once known, until removed', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'zimage-bot-')), 'nested', 'data');
    const first = UnfinishedJobs.open(dir);
    first.save(entry('2'));
    first.save(entry('1'));
    first.save(entry('2', { messageId: '1400000000000000099' }));
    first.close();

    const again = UnfinishedJobs.open(dir);
    expect(again.list()).toEqual([entry('1'), entry('2', { messageId: '1400000000000000099' })]);
    again.remove('1');
    again.remove('unknown');
    expect(again.list().map((e) => e.interactionId)).toEqual(['2']);
    again.close();
  });

  it('is readable by its owner only: it holds interaction tokens', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'zimage-bot-')), 'data');
    const store = UnfinishedJobs.open(dir);
    store.save(entry('1'));
    expect(store.path).toBe(join(dir, UNFINISHED_JOBS_FILE));
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    store.close();
  });
});

import { describe, expect, it } from 'vitest';
import {
  describeEta,
  estimateRange,
  expectedProgress,
  similarRunTimes,
} from '../src/features/jobs/eta.ts';
import type { Job } from '../src/graphql/operations.ts';

const completed = (fields: Partial<Job> & { runMs: number }): Job =>
  ({
    id: `job_${Math.random()}`,
    model: 'Z_IMAGE_TURBO',
    numInferenceSteps: 8,
    numImages: 1,
    status: 'COMPLETED',
    startedAt: '2025-06-01T12:00:00.000Z',
    completedAt: new Date(Date.parse('2025-06-01T12:00:00.000Z') + fields.runMs).toISOString(),
    ...fields,
  }) as Job;

const running = {
  id: 'job_now',
  model: 'Z_IMAGE_TURBO',
  numInferenceSteps: 8,
  numImages: 1,
} as const;

describe('ETA', () => {
  it('uses recent runs of the same model and steps only', () => {
    const runs = similarRunTimes(running, [
      completed({ runMs: 4000 }),
      completed({ runMs: 90_000, model: 'Z_IMAGE_BASE' }),
      completed({ runMs: 30_000, numInferenceSteps: 40 }),
      completed({ runMs: 5000, status: 'FAILED' }),
      completed({ runMs: 6000 }),
    ]);
    expect(runs).toEqual([4000, 6000]);
  });

  it('prefers runs with the same image count once there are a few', () => {
    const jobs = [
      completed({ runMs: 9000, numImages: 4 }),
      completed({ runMs: 9500, numImages: 4 }),
      completed({ runMs: 9800, numImages: 4 }),
      completed({ runMs: 4000 }),
    ];
    expect(similarRunTimes({ ...running, numImages: 4 }, jobs)).toEqual([9000, 9500, 9800]);
    expect(similarRunTimes(running, jobs)).toHaveLength(4);
  });

  it("starts from the gateway's estimate, which counts as a run until there are a few", () => {
    expect(estimateRange([], 6000)).toEqual({ lowMs: 6000, highMs: 6000 });
    expect(estimateRange([4000], 6000)).toEqual({ lowMs: 4000, highMs: 6000 });
    expect(estimateRange([4000, 9000], 6000)).toEqual({ lowMs: 4000, highMs: 9000 });
    // Three runs of its own: the estimate no longer widens the range.
    expect(estimateRange([4000, 4500, 5000], 20_000)).toEqual({ lowMs: 4000, highMs: 5000 });
  });

  it('gives the full range of a few runs and the middle 80 % of many', () => {
    expect(estimateRange([5000, 3000, 4000], 1)).toEqual({ lowMs: 3000, highMs: 5000 });
    const many = [1000, 3000, 3100, 3200, 3300, 3400, 3500, 3600, 3700, 9000, 20_000];
    expect(estimateRange(many, 1)).toEqual({ lowMs: 3000, highMs: 9000 });
  });

  it('says how long is left, and when a run takes longer than usual', () => {
    const range = { lowMs: 3000, highMs: 5000 };
    expect(describeEta(range, 1000)).toBe('About 2.0–4.0 s left');
    expect(describeEta(range, 3500)).toBe('Almost done: up to 1.5 s left');
    expect(describeEta(range, 6000)).toBe('Taking longer than usual (usually 3.0–5.0 s)');
    expect(describeEta({ lowMs: 6000, highMs: 6000 }, 1000)).toBe('About 5.0 s left');
    expect(describeEta({ lowMs: 60_000, highMs: 95_000 }, 0)).toBe(
      'About 1 min 00 s – 1 min 35 s left',
    );
  });

  it('never shows the bar complete before the job is', () => {
    const range = { lowMs: 3000, highMs: 5000 };
    expect(expectedProgress(range, 2000)).toBe(0.5);
    expect(expectedProgress(range, 60_000)).toBe(0.95);
  });
});

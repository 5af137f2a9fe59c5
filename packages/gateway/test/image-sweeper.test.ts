/**
 * The retention sweeper on a real store and image directory: what it deletes and marks, in
 * batches; that it leaves recent jobs alone; that it skips while another instance holds the
 * sweep; and that a run cut short by the image store leaves the job to the next run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRecord } from '../src/domain/job.ts';
import { silentLogger } from '../src/domain/logger.ts';
import type { ImageStore } from '../src/images/image-store.ts';
import { createLocalImageStore } from '../src/images/open-image-store.ts';
import { createImageSweeper, IMAGE_SWEEP_LEASE } from '../src/jobs/image-sweeper.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { newJob, storedKey } from './fixtures/records.ts';
import { image } from './image-store.suite.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date('2025-09-01T00:00:00.000Z');
const RETENTION_MS = 30 * DAY_MS;

let dataDir: string;
let store: Store;
let images: ImageStore;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-sweeper-'));
  store = openSqliteStore(path.join(dataDir, 'zimage.db'));
  images = createLocalImageStore({ dataDir });
});
afterEach(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A completed job that ended `daysAgo` days before NOW, with two images in the store. */
async function endedJob(daysAgo: number): Promise<JobRecord> {
  const key = await storedKey(store);
  const job = newJob(key, { status: 'COMPLETED', submission: 'submitted' });
  const bytes = await image('png', 8, 8);
  const stored = [await images.save(job.id, bytes), await images.save(job.id, bytes)];
  const completed = {
    ...job,
    images: stored,
    completedAt: new Date(NOW.getTime() - daysAgo * DAY_MS),
  };
  const admitted = await store.admitJob({
    job: completed,
    day: '2025-06-01',
    keyLimits: key.limits,
    endUserLimits: null,
  });
  if (admitted.kind !== 'created') throw new Error(admitted.kind);
  return admitted.job;
}

const sweeperWith = (overrides: { images?: ImageStore; instanceId?: string } = {}) =>
  createImageSweeper({
    store,
    images: overrides.images ?? images,
    instanceId: overrides.instanceId ?? 'inst_a',
    logger: silentLogger,
    now: () => NOW,
    options: { retentionMs: RETENTION_MS, batchSize: 2 },
  });

describe('image sweeper', () => {
  it('expires the images of jobs ended before the retention, batch after batch, and no others', async () => {
    const old = [await endedJob(31), await endedJob(45), await endedJob(400)];
    const recent = await endedJob(29);
    expect(await sweeperWith().sweep()).toEqual({
      result: 'swept',
      expiredJobs: 3,
      deletedObjects: 6,
    });
    for (const job of old) {
      expect((await store.getJob(job.id))?.imagesExpiredAt).toEqual(NOW);
      for (const { fileName } of job.images) expect(await images.stat(job.id, fileName)).toBeNull();
    }
    expect((await store.getJob(recent.id))?.imagesExpiredAt).toBeNull();
    expect(await images.usage()).toMatchObject({ objects: 2 });
    expect(await sweeperWith().sweep()).toEqual({
      result: 'swept',
      expiredJobs: 0,
      deletedObjects: 0,
    });
  });

  it('skips its run while another instance holds the sweep, and sweeps once it is released', async () => {
    const job = await endedJob(31);
    expect(
      await store.takeLease(IMAGE_SWEEP_LEASE, 'inst_other', NOW, new Date(NOW.getTime() + 60_000)),
    ).toBe(true);
    expect(await sweeperWith().sweep()).toEqual({
      result: 'skipped',
      expiredJobs: 0,
      deletedObjects: 0,
    });
    expect((await store.getJob(job.id))?.imagesExpiredAt).toBeNull();
    await store.releaseLease(IMAGE_SWEEP_LEASE, 'inst_other');
    expect(await sweeperWith().sweep()).toMatchObject({ result: 'swept', expiredJobs: 1 });
  });

  it('leaves a job whose images could not be deleted to the next run', async () => {
    const job = await endedJob(31);
    const failing: ImageStore = {
      ...images,
      removeJob: () => Promise.reject(new Error('the bucket is down')),
    };
    expect(await sweeperWith({ images: failing }).sweep()).toMatchObject({
      result: 'failed',
      expiredJobs: 0,
    });
    expect((await store.getJob(job.id))?.imagesExpiredAt).toBeNull();
    // The failed run gave the sweep up: the next one, on any instance, does it.
    expect(await sweeperWith({ instanceId: 'inst_b' }).sweep()).toEqual({
      result: 'swept',
      expiredJobs: 1,
      deletedObjects: 2,
    });
  });
});

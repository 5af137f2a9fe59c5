import { PIXEL_SIZES } from '@zimage/core';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../src/errors.ts';
import type { JobRecord } from '../src/jobs/job.ts';
import { topics } from '../src/pubsub/pubsub.ts';
import { type Harness, startHarness, waitForJob } from './helpers/engine-harness.ts';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

describe('job engine: a job from QUEUED to COMPLETED', () => {
  it('stores the images and publishes every state after persisting it', async () => {
    const principal = await h.principal();
    const engine = h.engine();
    await engine.start();
    const controller = new AbortController();
    const events = h.pubsub.subscribe(topics.owner(principal.key.id), controller.signal);
    const seen: { event: JobRecord; stored: JobRecord }[] = [];
    const watching = (async () => {
      for await (const { job } of events) {
        seen.push({ event: job, stored: (await h.store.getJob(job.id)) as JobRecord });
        if (job.status === 'COMPLETED') return;
      }
    })();

    const queued = await engine.generate(principal, {
      model: 'base',
      prompt: 'a lighthouse in a storm',
      imageSize: 'landscape_4_3',
      numImages: 2,
      outputFormat: 'webp',
    });
    expect(queued).toMatchObject({ status: 'QUEUED', submission: 'pending', costMicroUsd: 20_000 });
    const job = await waitForJob(h, queued.id);
    await watching;
    controller.abort();

    expect(job).toMatchObject({ status: 'COMPLETED', submission: 'submitted', error: null });
    expect(job.requestId).toMatch(/^z-image-base_/);
    expect(job.startedAt).toBeInstanceOf(Date);
    expect(job.completedAt).toBeInstanceOf(Date);
    expect(job.images).toHaveLength(2);
    for (const image of job.images) {
      expect(image).toMatchObject({ ...PIXEL_SIZES.landscape_4_3, contentType: 'image/webp' });
      const file = h.images.resolve(job.id, image.fileName) as string;
      const metadata = await sharp(file).metadata();
      expect(metadata).toMatchObject({ format: 'webp', width: 1024, height: 768 });
    }

    // In order, each already persisted when it was published.
    const steps = seen.map(({ event }) => `${event.status}/${event.submission}`);
    expect(steps).toEqual([
      'QUEUED/pending',
      'QUEUED/submitting',
      'QUEUED/submitted',
      'PROCESSING/submitted',
      'COMPLETED/submitted',
    ]);
    for (const { event, stored } of seen)
      expect(stored.version).toBeGreaterThanOrEqual(event.version);
    expect(seen.map(({ event }) => event.version)).toEqual([1, 2, 3, 4, 5]);
    expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
    expect(engine.queuePosition(job.id)).toBeNull();
  });
});

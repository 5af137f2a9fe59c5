import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { JobRecord } from '../src/domain/job.ts';
import { type Harness, startHarness, waitForJob } from './helpers/engine-harness.ts';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

const turbo = { prompt: 'a glass of water', imageSize: 'landscape_16_9' } as const;

it('ends a job whose request vanished at Pixazo as ERROR, saying so', async () => {
  h.sim.setFaults({ vanish: { next: 1 } });
  const principal = await h.principal();
  const engine = h.engine();
  await engine.start();
  const job = await waitForJob(h, (await engine.generate(principal, turbo)).id);
  expect(job.status).toBe('ERROR');
  expect(job.error).toMatch(
    /^Pixazo no longer knows request z-image-turbo-834_\S+ \(its status answered 404 3 times/,
  );
  expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
});

it('stops waiting for a job with no end past the deadline', async () => {
  const principal = await h.principal();
  const engine = h.engine({ deadline: { factor: 0, marginMs: 100 } });
  await engine.start();
  const long = { ...turbo, model: 'base', numInferenceSteps: 100, numImages: 4 } as const;
  const job = await waitForJob(h, (await engine.generate(principal, long)).id);
  expect(job).toMatchObject({ status: 'ERROR', costMicroUsd: 40_000 });
  expect(job.error).toMatch(/^Pixazo did not finish request \S+ within 0 s of its submission/);
});

it('never re-sends a POST whose answer was lost; the job ends ERROR, still charged', async () => {
  h.sim.setFaults({ drop: { next: 1, route: 'submit' } });
  const principal = await h.principal();
  const engine = h.engine();
  await engine.start();
  const job = await waitForJob(h, (await engine.generate(principal, turbo)).id);
  expect(job).toMatchObject({ status: 'ERROR', costMicroUsd: 8000, requestId: null });
  expect(job.error).toMatch(
    /^Pixazo may have accepted this job, but the outcome of its submission is unknown \(/,
  );
  expect(job.error).toMatch(/not sent again to avoid paying twice$/);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
  // Pixazo did take it: that is why the charge stays.
  expect(h.sim.jobs()).toHaveLength(1);
});

it('gives up on images that cannot be downloaded, keeping no partial files', async () => {
  h.sim.setFaults({ serverError: { next: 1000, route: 'media' } });
  const principal = await h.principal();
  const engine = h.engine({ maxDownloadAttempts: 2 });
  await engine.start();
  const job = await waitForJob(
    h,
    (await engine.generate(principal, { ...turbo, numImages: 2 })).id,
  );
  expect(job).toMatchObject({ status: 'ERROR', costMicroUsd: 16_000, images: [] });
  expect(job.error).toMatch(/^Pixazo completed the job but its images could not be downloaded: /);
  await expect(readdir(path.join(h.dataDir, 'images', job.id))).rejects.toThrow();
});

it('ends every job through a storm of 429s and 500s, each POSTed at most once', async () => {
  h.sim.setFaults({
    rateLimit: { probability: 0.25, route: 'any', retryAfterSeconds: 1 },
    serverError: { probability: 0.2, route: 'any' },
  });
  const principal = await h.principal();
  const engine = h.engine({ maxConcurrency: 3 });
  await engine.start();
  const queued: JobRecord[] = [];
  for (let i = 0; i < 6; i++) queued.push(await engine.generate(principal, turbo));
  const jobs = await Promise.all(queued.map((job) => waitForJob(h, job.id, undefined, 50_000)));

  const submits = h.sim.requests({ route: 'submit' });
  // A 429 is a refusal, the one answer after which a POST may be sent again.
  const handled = submits.filter((r) => r.status !== 429);
  const neverSent = jobs.filter((job) => /answering 429/.test(job.error ?? ''));
  expect(handled).toHaveLength(jobs.length - neverSent.length);
  const accepted = jobs.filter((job) => job.requestId !== null);
  expect(submits.filter((r) => r.status === 202)).toHaveLength(accepted.length);
  expect(new Set(accepted.map((job) => job.requestId)).size).toBe(accepted.length);
  for (const job of jobs) {
    if (job.status === 'COMPLETED') expect(job.images).toHaveLength(1);
    else expect(job.status).toBe('ERROR');
  }
}, 60_000);

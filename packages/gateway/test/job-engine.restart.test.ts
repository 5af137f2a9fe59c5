import { afterEach, beforeEach, expect, it } from 'vitest';
import { GatewayError } from '../src/errors.ts';
import { STOPPED_WHILE_SUBMITTING } from '../src/jobs/submitter.ts';
import { type Harness, startHarness, waitForJob } from './helpers/engine-harness.ts';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

const turbo = { prompt: 'an old tram at dusk', imageSize: 'square_1_1' } as const;

it('resumes a submitted job after a restart without sending it again', async () => {
  const principal = await h.principal();
  const before = h.engine();
  await before.start();
  const long = { ...turbo, model: 'base', numInferenceSteps: 60 } as const;
  const queued = await before.generate(principal, long);
  const submitted = await waitForJob(h, queued.id, (job) => job.submission === 'submitted');
  await before.stop();
  const stopped = await h.store.getJob(queued.id);
  expect(stopped?.status === 'QUEUED' || stopped?.status === 'PROCESSING').toBe(true);
  await expect(before.generate(principal, turbo)).rejects.toThrow(GatewayError);

  const after = h.engine();
  await after.start();
  const job = await waitForJob(h, queued.id);
  expect(job).toMatchObject({ status: 'COMPLETED', requestId: submitted.requestId });
  expect(job.images).toHaveLength(1);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
});

it('sends jobs still waiting in the queue after a restart, in their order', async () => {
  const principal = await h.principal();
  const before = h.engine();
  const first = await before.generate(principal, turbo);
  const second = await before.generate(principal, turbo);
  await before.stop();

  const after = h.engine({ maxConcurrency: 1 });
  await after.start();
  expect(await after.queuePosition(second.id)).toBe(1);
  const done = [await waitForJob(h, first.id), await waitForJob(h, second.id)];
  expect(done.map((job) => job.status)).toEqual(['COMPLETED', 'COMPLETED']);
  expect((done[0]?.startedAt as Date) <= (done[1]?.startedAt as Date)).toBe(true);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(2);
});

it('ends a job caught mid-POST by a restart as ERROR, never re-sent, still charged', async () => {
  const principal = await h.principal();
  const before = h.engine();
  const queued = await before.generate(principal, turbo);
  await before.stop();
  // What a crash between marking the job and Pixazo's answer leaves behind.
  await h.store.updateJob(queued.id, queued.version, { submission: 'submitting' });

  const after = h.engine();
  await after.start();
  const job = await h.store.getJob(queued.id);
  expect(job).toMatchObject({
    status: 'ERROR',
    error: STOPPED_WHILE_SUBMITTING,
    costMicroUsd: 8000,
  });
  expect(h.sim.countRequests({ route: 'submit' })).toBe(0);
});

it('keeps the charge of a job a polling run was POSTing when the restart has PUBLIC_URL', async () => {
  const principal = await h.principal();
  const before = h.engine(); // polling: its POSTs carry no callback URL, so no token is stored
  const queued = await before.generate(principal, turbo);
  await before.stop();
  // A crash during that POST: Pixazo may have taken (and billed) it, and no callback will come.
  await h.store.updateJob(queued.id, queued.version, { submission: 'submitting' });

  const after = h.engine({ publicUrl: 'http://gateway.test' });
  await after.start();
  const job = await h.store.getJob(queued.id);
  expect(job).toMatchObject({
    status: 'ERROR',
    error: STOPPED_WHILE_SUBMITTING,
    costMicroUsd: 8000,
  });
  expect(h.sim.countRequests({ route: 'submit' })).toBe(0);
});

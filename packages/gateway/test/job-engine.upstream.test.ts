/**
 * The engine while Pixazo cannot take work (upstream-health.ts), against the real simulator:
 * a spent wallet (402), Pixazo gone (connection refused), and, in graphql-upstream.test.ts,
 * a rejected key. Cooldowns run on an injected clock, so no test waits them out.
 */
import { type PixazoSim, startPixazoSim } from '@zimage/pixazo-sim';
import { afterEach, expect, it } from 'vitest';
import type { JobRecord } from '../src/domain/job.ts';
import { GatewayError } from '../src/errors.ts';
import { utcDay } from '../src/limits/budget.ts';
import { createMetrics } from '../src/metrics.ts';
import { type Harness, SIM_KEY, startHarness, waitForJob } from './helpers/engine-harness.ts';

let h: Harness | undefined;
let revived: PixazoSim | undefined;

afterEach(async () => {
  await revived?.close();
  revived = undefined;
  await h?.close();
  h = undefined;
});

const turbo = { prompt: 'a lighthouse at dusk', imageSize: 'square_1_1' } as const;

/** A clock for the upstream cooldowns that a test moves forward. */
function testClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${error}`);
  return error;
}

const jobCount = async (harness: Harness) => (await harness.store.listJobs({}, 100)).jobs.length;

it('refuses new jobs with INSUFFICIENT_BALANCE after a 402, sending nothing, until a probe succeeds', async () => {
  // Exactly one Turbo image's worth.
  h = await startHarness({ keys: { [SIM_KEY]: 0.008 } });
  const clock = testClock();
  const metrics = createMetrics();
  const principal = await h.principal();
  const engine = h.engine({ upstreamHealth: { now: clock.now } }, { metrics });
  await engine.start();

  const first = await waitForJob(h, (await engine.generate(principal, turbo)).id);
  expect(first.status).toBe('COMPLETED');

  const second = await engine.generate(principal, { ...turbo, idempotencyKey: 'second' });
  expect(await waitForJob(h, second.id)).toMatchObject({
    status: 'ERROR',
    error: 'Pixazo: insufficient balance',
    costMicroUsd: 0,
  });
  expect(h.sim.countRequests({ route: 'submit' })).toBe(2);
  expect(h.sim.countRequests({ route: 'submit', status: 402 })).toBe(1);

  const refused = await refusal(engine.generate(principal, turbo));
  expect(refused.code).toBe('INSUFFICIENT_BALANCE');
  expect(refused.message).toBe(
    "The gateway's Pixazo wallet has insufficient balance; try again in 60 s",
  );
  expect(refused.extensions.retryAfterSeconds).toBe(60);
  // Nothing charged, stored or sent.
  expect(await jobCount(h)).toBe(2);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(2);
  expect(
    await h.store.usage({ keyId: principal.key.id, endUserId: null }, utcDay(first.createdAt)),
  ).toEqual({
    spentMicroUsd: 8000,
    spentThisMonthMicroUsd: 8000,
    jobsInFlight: 0,
  });
  // A repeat of an earlier request still gets its job; the key reused for another one does not.
  expect((await engine.generate(principal, { ...turbo, idempotencyKey: 'second' })).id).toBe(
    second.id,
  );
  const reused = await refusal(
    engine.generate(principal, { ...turbo, prompt: 'another', idempotencyKey: 'second' }),
  );
  expect(reused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
  expect(await metrics.render()).toMatch(/^zimage_pixazo_upstream_state 1$/m);

  // Money arrives; once the cooldown is over the next job is the probe, and it goes through.
  h.sim.setBalance(SIM_KEY, 1);
  clock.advance(60_000);
  const probe = await engine.generate(principal, turbo);
  expect((await waitForJob(h, probe.id)).status).toBe('COMPLETED');
  expect(await metrics.render()).toMatch(/^zimage_pixazo_upstream_state 0$/m);
  const after = await engine.generate(principal, turbo);
  expect((await waitForJob(h, after.id)).status).toBe('COMPLETED');
  expect(h.sim.countRequests({ route: 'submit' })).toBe(4);
});

it('holds pending jobs while Pixazo is unreachable and sends them once it is back', async () => {
  h = await startHarness();
  const { port } = h.sim;
  const clock = testClock();
  const principal = await h.principal();
  const engine = h.engine({ maxConcurrency: 1, upstreamHealth: { now: clock.now } });
  // Queued before the engine starts, so the first one is sent while the others wait.
  const jobs: JobRecord[] = [];
  for (let i = 0; i < 3; i++) jobs.push(await engine.generate(principal, turbo));
  const [lost, ...waiting] = jobs as [JobRecord, ...JobRecord[]];
  await h.sim.close();
  await engine.start();

  expect(await waitForJob(h, lost.id)).toMatchObject({
    status: 'ERROR',
    costMicroUsd: 0,
    requestId: null,
  });
  expect((await h.store.getJob(lost.id))?.error).toMatch(
    /^Pixazo could not be reached; the job was not submitted/,
  );

  const refused = await refusal(engine.generate(principal, turbo));
  expect(refused.code).toBe('UPSTREAM_UNAVAILABLE');
  expect(refused.message).toBe('Pixazo is unreachable from the gateway; try again in 15 s');
  expect(refused.extensions.retryAfterSeconds).toBe(15);
  expect(await jobCount(h)).toBe(3);
  // The others were not tried against a Pixazo known to be gone: they keep their places.
  for (const [index, job] of waiting.entries()) {
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'QUEUED', submission: 'pending' });
    expect(await engine.queuePosition(job.id)).toBe(index + 1);
  }

  revived = await startPixazoSim({ port, timeScale: 0.01, rateLimit: false });
  clock.advance(15_000);
  for (const job of waiting) expect((await waitForJob(h, job.id)).status).toBe('COMPLETED');
  expect(revived.countRequests({ route: 'submit' })).toBe(2);
  const after = await engine.generate(principal, turbo);
  expect((await waitForJob(h, after.id)).status).toBe('COMPLETED');
});

it('stops with a condition holding and pending jobs held, leaving them for the next start', async () => {
  h = await startHarness({ keys: { [SIM_KEY]: 0 } });
  const clock = testClock();
  const principal = await h.principal();
  const engine = h.engine({ maxConcurrency: 1, upstreamHealth: { now: clock.now } });
  const refusedAtPixazo = await engine.generate(principal, turbo);
  const held = await engine.generate(principal, turbo);
  await engine.start();
  expect((await waitForJob(h, refusedAtPixazo.id)).status).toBe('ERROR');
  await engine.stop();
  expect(await h.store.getJob(held.id)).toMatchObject({
    status: 'QUEUED',
    submission: 'pending',
  });

  // A new process starts healthy and sends it.
  h.sim.setBalance(SIM_KEY, 1);
  const next = h.engine();
  await next.start();
  expect((await waitForJob(h, held.id)).status).toBe('COMPLETED');
});

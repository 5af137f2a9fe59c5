import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Readable } from 'node:stream';
import { PIXEL_SIZES, PixazoClient } from '@zimage/core';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRecord } from '../src/domain/job.ts';
import { GatewayError } from '../src/errors.ts';
import { createMetrics } from '../src/metrics.ts';
import { topics } from '../src/pubsub/pubsub.ts';
import { type Harness, published, startHarness, waitForJob } from './helpers/engine-harness.ts';

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
    const metrics = createMetrics();
    const engine = h.engine({}, { metrics });
    await engine.start();
    const controller = new AbortController();
    const events = await published(h.pubsub, topics.owner(principal.key.id), controller.signal);
    const seen: { event: JobRecord; stored: JobRecord }[] = [];
    const watching = (async () => {
      for await (const job of events) {
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
      const stream = await h.images.read(job.id, image.fileName);
      const bytes = Buffer.concat(await (stream as Readable).toArray());
      const metadata = await sharp(bytes).metadata();
      expect(metadata).toMatchObject({ format: 'webp', width: 1024, height: 768 });
      // The job's parameters are written into the file, and counted in its size.
      expect(image.byteLength).toBe(bytes.length);
      const xmp = metadata.xmp?.toString() ?? '';
      expect(xmp).toContain('>a lighthouse in a storm</rdf:li>');
      expect(xmp).toContain('<zimage:model>Z_IMAGE_BASE</zimage:model>');
      expect(xmp).toContain('<zimage:guidanceScale>');
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
    expect(await engine.queuePosition(job.id)).toBeNull();
    const counted = await metrics.render();
    for (const status of ['QUEUED', 'PROCESSING', 'COMPLETED']) {
      expect(counted).toContain(`zimage_jobs_total{status="${status}"} 1`);
    }
    expect(counted).toContain('zimage_job_updates_total{source="poll"} 2');
  });
});

const turbo = { prompt: 'a red fox in the snow', imageSize: 'square_1_1' } as const;

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('job engine: generate refuses before anything is charged or sent', () => {
  it('names the offending field of invalid input', async () => {
    const principal = await h.principal();
    const engine = h.engine({ maxPromptLength: 50 });
    await engine.start();
    const steps = await refusal(engine.generate(principal, { ...turbo, numInferenceSteps: 99 }));
    expect(steps.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'numInferenceSteps' });
    const guidance = await refusal(engine.generate(principal, { ...turbo, guidanceScale: 4 }));
    expect(guidance.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'guidanceScale' });
    const long = await refusal(engine.generate(principal, { ...turbo, prompt: 'x'.repeat(51) }));
    expect(long.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'prompt' });
    expect(long.message).toMatch(/at most 50 characters/);
    const blankKey = await refusal(engine.generate(principal, { ...turbo, idempotencyKey: ' ' }));
    expect(blankKey.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    expect((await h.store.listJobs({}, 10)).jobs).toEqual([]);
  });

  it('counts the prompt limit in characters (code points), not UTF-16 units', async () => {
    const principal = await h.principal();
    const engine = h.engine({ maxPromptLength: 2000 });
    await engine.start();
    // 1,500 emoji are 3,000 UTF-16 units; 2,000 are exactly the limit.
    for (const prompt of ['🌊'.repeat(1500), '🌊'.repeat(2000)]) {
      expect((await engine.generate(principal, { ...turbo, prompt })).prompt).toBe(prompt);
    }
    const over = await refusal(
      engine.generate(principal, { ...turbo, prompt: `${'🌊'.repeat(2000)}x` }),
    );
    expect(over.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'prompt' });
    expect(over.message).toMatch(/at most 2000 characters/);
  });

  it('needs the generate scope, and act-as to act for an end user', async () => {
    const engine = h.engine();
    const reader = await h.principal({ scopes: ['read'] });
    expect((await refusal(engine.generate(reader, turbo))).code).toBe('FORBIDDEN');
    const plain = await h.principal();
    const acting = await refusal(engine.generate(plain, { ...turbo, endUserId: 'discord:42' }));
    expect(acting.code).toBe('FORBIDDEN');
    const bot = await h.principal({ scopes: ['generate', 'act-as'] });
    const job = await engine.generate(bot, { ...turbo, endUserId: 'discord:42' });
    expect(job.endUserId).toBe('discord:42');
  });

  it('maps a spent budget to BUDGET_EXCEEDED and full slots to RATE_LIMITED', async () => {
    const engine = h.engine();
    const thrifty = await h.principal({ limits: { dailyBudgetMicroUsd: 10_000 } });
    await engine.generate(thrifty, turbo);
    const budget = await refusal(engine.generate(thrifty, turbo));
    expect(budget.extensions).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      scope: 'key',
      spentTodayUsd: 0.008,
      dailyBudgetUsd: 0.01,
    });
    const busy = await h.principal({
      scopes: ['generate', 'act-as'],
      endUserLimits: { maxConcurrentJobs: 1 },
    });
    await engine.generate(busy, { ...turbo, endUserId: 'u1' });
    await engine.generate(busy, { ...turbo, endUserId: 'u2' });
    const full = await refusal(engine.generate(busy, { ...turbo, endUserId: 'u1' }));
    expect(full.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      scope: 'endUser',
      maxConcurrentJobs: 1,
    });
    expect(full.extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(h.sim.countRequests({ route: 'submit' })).toBe(0);
  });

  it('returns the same job for a repeated idempotency key: one charge, one POST', async () => {
    const principal = await h.principal();
    const engine = h.engine();
    await engine.start();
    const first = await engine.generate(principal, { ...turbo, idempotencyKey: 'order-1' });
    const again = await engine.generate(principal, { ...turbo, idempotencyKey: 'order-1' });
    expect(again.id).toBe(first.id);
    await waitForJob(h, first.id);
    const late = await engine.generate(principal, { ...turbo, idempotencyKey: 'order-1' });
    expect(late).toMatchObject({ id: first.id, status: 'COMPLETED' });
    expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
    const usage = await h.store.usage({ keyId: principal.key.id, endUserId: null }, today());
    expect(usage.spentMicroUsd).toBe(8000);
  });

  it('refuses a repeated idempotency key with other parameters, naming the field', async () => {
    const principal = await h.principal();
    const engine = h.engine();
    await engine.start();
    const first = await engine.generate(principal, { ...turbo, idempotencyKey: 'order-2' });
    // The defaults, given explicitly, make the same request.
    const explicit = {
      ...turbo,
      numImages: 1,
      outputFormat: 'png' as const,
      idempotencyKey: 'order-2',
    };
    expect((await engine.generate(principal, explicit)).id).toBe(first.id);

    const other = await refusal(
      engine.generate(principal, { ...turbo, numImages: 2, idempotencyKey: 'order-2' }),
    );
    expect(other.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    expect(other.message).toMatch(/already used for another request/);
    expect((await h.store.listJobs({}, 10)).jobs.map((job) => job.id)).toEqual([first.id]);
  });
});

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

describe('job engine: how jobs end', () => {
  it('keeps the charge of a FAILED job and refunds an ERROR one', async () => {
    const principal = await h.principal();
    const engine = h.engine();
    await engine.start();
    const failing = await engine.generate(principal, { ...turbo, prompt: 'a cat [sim:fail]' });
    const erring = await engine.generate(principal, { ...turbo, prompt: 'a dog [sim:error]' });
    const failed = await waitForJob(h, failing.id);
    const errored = await waitForJob(h, erring.id);
    expect(failed).toMatchObject({ status: 'FAILED', costMicroUsd: 8000, images: [] });
    expect(failed.error).toMatch(/^Pixazo: Image generation failed/);
    expect(errored).toMatchObject({ status: 'ERROR', costMicroUsd: 0, images: [] });
    expect(errored.error).toMatch(/^Pixazo: Internal error/);
    const usage = await h.store.usage({ keyId: principal.key.id, endUserId: null }, today());
    expect(usage).toEqual({ spentMicroUsd: 8000, spentThisMonthMicroUsd: 8000, jobsInFlight: 0 });
  });

  it('ends ERROR at no cost when Pixazo refuses the POST for want of balance', async () => {
    h.sim.setBalance('dev-key', 0);
    const principal = await h.principal();
    const engine = h.engine();
    await engine.start();
    const job = await waitForJob(h, (await engine.generate(principal, turbo)).id);
    expect(job).toMatchObject({
      status: 'ERROR',
      error: 'Pixazo: insufficient balance',
      costMicroUsd: 0,
      requestId: null,
    });
  });

  it('ends ERROR, refunded, when the gateway holds a key Pixazo rejects', async () => {
    const principal = await h.principal();
    const stranger = new PixazoClient({ apiKey: 'not-a-key', baseUrl: h.sim.url });
    const engine = h.engine({}, { pixazo: stranger });
    await engine.start();
    const job = await waitForJob(h, (await engine.generate(principal, turbo)).id);
    expect(job).toMatchObject({ status: 'ERROR', costMicroUsd: 0 });
    expect(job.error).toBe("The gateway's Pixazo key was rejected");
  });
});

describe('job engine: polling cadence', () => {
  it('reads a typical job at most three times, at its expected end on Pixazo’s pace', async () => {
    const principal = await h.principal();
    // The default schedule, on the simulator's pace (timeScale 0.01), floors lowered to match.
    const engine = h.engine({
      pollSchedule: { minIntervalMs: 1, maxIntervalMs: 1000 },
      durationScale: 0.01,
    });
    await engine.start();
    const jobs = await Promise.all(
      [turbo, { ...turbo, numImages: 2 }, { ...turbo, model: 'base' } as const].map((input) =>
        engine.generate(principal, input),
      ),
    );
    for (const job of jobs) expect((await waitForJob(h, job.id)).status).toBe('COMPLETED');
    // Pixazo ends a job within ±10% of its expectation, counted from acceptance; the tracker's
    // reads start after the POST's answer, at 0.9, 1 and 1.15 of it: the third sees it done.
    for (const job of jobs) {
      const requestId = (await h.store.getJob(job.id))?.requestId as string;
      const reads = h.sim.requests({ route: 'status' }).filter((r) => r.path.endsWith(requestId));
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.length).toBeLessThanOrEqual(3);
    }
  });
});

describe('job engine: cancelJob', () => {
  it('claims a job in its admission’s commit: it is stored as being sent once generate answers', async () => {
    const engine = h.engine();
    await engine.start();
    const job = await engine.generate(await h.principal(), turbo);
    // Another connection sees only what is committed.
    const reader = new DatabaseSync(path.join(h.dataDir, 'gateway.db'), { readOnly: true });
    try {
      const row = reader.prepare('SELECT submission FROM jobs WHERE id = ?').get(job.id);
      expect(row).toEqual({ submission: 'submitting' });
    } finally {
      reader.close();
    }
    expect((await waitForJob(h, job.id)).status).toBe('COMPLETED');
  });

  it('cancels a job still in the gateway queue at no cost, and never sends it', async () => {
    const principal = await h.principal();
    const engine = h.engine();
    const waiting = await engine.generate(principal, turbo);
    expect(await engine.queuePosition(waiting.id)).toBe(1);
    const cancelled = await engine.cancel(principal, waiting.id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', costMicroUsd: 0, requestId: null });
    expect(cancelled.completedAt).toBeInstanceOf(Date);
    expect(await engine.queuePosition(waiting.id)).toBeNull();

    await engine.start();
    const next = await waitForJob(h, (await engine.generate(principal, turbo)).id);
    expect(next.status).toBe('COMPLETED');
    expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
    const usage = await h.store.usage({ keyId: principal.key.id, endUserId: null }, today());
    expect(usage.spentMicroUsd).toBe(8000);
  });

  it('refuses to cancel a job sent to Pixazo: it completes with its images, charged as billed', async () => {
    const principal = await h.principal();
    const engine = h.engine();
    await engine.start();
    const queued = await engine.generate(principal, { ...turbo, numImages: 2 });
    const submitted = await waitForJob(h, queued.id, (job) => job.submission === 'submitted');
    const error = await refusal(engine.cancel(principal, queued.id));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.extensions).toMatchObject({ field: 'id' });
    expect(error.message).toMatch(/already sent to Pixazo.*images will be kept/);

    const job = await waitForJob(h, queued.id);
    expect(job).toMatchObject({ status: 'COMPLETED', requestId: submitted.requestId });
    expect(job.images).toHaveLength(2);
    // Charged what Pixazo billed for its two images ($0.008 each).
    expect(h.sim.job(submitted.requestId as string)?.cost_usd).toBe(0.016);
    expect(job.costMicroUsd).toBe(16_000);
    expect(h.sim.countRequests({ route: 'submit' })).toBe(1);
  });

  it('refuses a cancel that a claim overtook between its read and its write', async () => {
    const principal = await h.principal();
    // The store as the engine sees it; once armed, the cancel's read sees the job pending and
    // another instance claims it right after.
    let armed = false;
    const racing = new Proxy(h.store, {
      get(store, name) {
        if (name === 'getJob' && armed) {
          armed = false;
          return async (id: string) => {
            const job = await store.getJob(id);
            expect(job?.submission).toBe('pending');
            await store.claimPendingJobs({ instanceId: 'inst_other', maxInFlight: 1, limit: 1 });
            return job;
          };
        }
        const value = Reflect.get(store, name);
        return typeof value === 'function' ? value.bind(store) : value;
      },
    });
    const engine = h.engine({}, { store: racing });
    const waiting = await engine.generate(principal, turbo);
    armed = true;
    const error = await refusal(engine.cancel(principal, waiting.id));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(await h.store.getJob(waiting.id)).toMatchObject({
      status: 'QUEUED',
      submission: 'submitting',
      costMicroUsd: 8000,
    });
  });

  it('lets only the owner (same end user) or an admin cancel; others see no such job', async () => {
    const engine = h.engine();
    const bot = await h.principal({ scopes: ['generate', 'act-as'] });
    const job = await engine.generate(bot, { ...turbo, endUserId: 'alice' });
    const stranger = await h.principal();
    const strangerError = await refusal(engine.cancel(stranger, job.id));
    expect(strangerError.code).toBe('NOT_FOUND');
    const asBob = { ...bot, endUserId: 'bob' };
    expect((await refusal(engine.cancel(asBob, job.id))).code).toBe('NOT_FOUND');
    expect((await refusal(engine.cancel(bot, 'job_doesnotexist'))).code).toBe('NOT_FOUND');
    const admin = await h.principal({ scopes: ['admin'] });
    expect((await engine.cancel(admin, job.id)).status).toBe('CANCELLED');
  });

  it('returns an ended job unchanged', async () => {
    const principal = await h.principal();
    const engine = h.engine();
    await engine.start();
    const done = await waitForJob(h, (await engine.generate(principal, turbo)).id);
    const again = await engine.cancel(principal, done.id);
    expect(again).toEqual(done);
  });
});

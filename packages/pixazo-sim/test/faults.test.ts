import { describe, expect, it, vi } from 'vitest';
import type { PixazoSim } from '../src/index.ts';
import {
  CLOCK_WAIT,
  finalStatus,
  getStatus,
  KEY,
  SEED_TURBO_FULL_EXAMPLE,
  startSim,
  submit,
  submitOk,
} from './helpers.ts';

const statusOf = (response: Promise<Response>) => response.then((r) => r.status);

describe('request faults', () => {
  it('rateLimit: answers 429 with the configured Retry-After for the next N submits', async () => {
    const sim = await startSim({ faults: { rateLimit: { next: 2, retryAfterSeconds: 7 } } });
    for (let i = 0; i < 2; i++) {
      const response = await submit(sim, SEED_TURBO_FULL_EXAMPLE);
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(await response.json()).toEqual({
        statusCode: 429,
        message: 'Rate limit is exceeded. Try again in 7 seconds.',
      });
    }
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    expect(await statusOf(getStatus(sim, request_id))).toBe(200);
    expect(sim.jobs()).toHaveLength(1);
    expect(sim.balanceOf(KEY)).toBeCloseTo(5 - 0.008, 9);
  });

  it('serverError: answers 500 only on the route it targets', async () => {
    const sim = await startSim({ faults: { serverError: { next: 1, route: 'status' } } });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const failed = await getStatus(sim, request_id);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({
      error: 'Internal Server Error',
      message: expect.any(String),
    });
    expect(await statusOf(getStatus(sim, request_id))).toBe(200);
  });

  it("route 'any' also covers media downloads", async () => {
    const sim = await startSim();
    const done = await finalStatus(sim, (await submitOk(sim, SEED_TURBO_FULL_EXAMPLE)).request_id);
    sim.setFaults({ serverError: { next: 1, route: 'any' } });
    const url = done.output?.media_url[0] ?? '';
    expect(await statusOf(fetch(url))).toBe(500);
    expect(await statusOf(fetch(url))).toBe(200);
  });

  it('slow: answers late, and the job exists although the client gave up waiting', async () => {
    const sim = await startSim({ faults: { slow: { next: 1, delayMs: 5000 } } });
    const attempt = fetch(`${sim.url}/z-image-turbo-834/v1/z-image-turbo-request`, {
      method: 'POST',
      headers: { 'Ocp-Apim-Subscription-Key': KEY },
      body: JSON.stringify(SEED_TURBO_FULL_EXAMPLE),
      signal: AbortSignal.timeout(200),
    });
    await expect(attempt).rejects.toThrow(/abort|timeout/i);
    expect(sim.jobs()).toHaveLength(1);
    expect(sim.requests()).toMatchObject([{ route: 'submit', status: null }]);
    expect(await statusOf(submit(sim, SEED_TURBO_FULL_EXAMPLE))).toBe(202);
  });

  it('drop: accepts and charges the job, then closes the connection unanswered', async () => {
    const sim = await startSim({ faults: { drop: { next: 1 } } });
    await expect(submit(sim, SEED_TURBO_FULL_EXAMPLE)).rejects.toThrow(TypeError);
    expect(sim.jobs()).toHaveLength(1);
    expect(sim.balanceOf(KEY)).toBeCloseTo(5 - 0.008, 9);
    expect(sim.requests()).toMatchObject([{ route: 'submit', status: null, dropped: true }]);
    expect(await statusOf(submit(sim, SEED_TURBO_FULL_EXAMPLE))).toBe(202);
  });
});

describe('job faults', () => {
  it('jobFailed: the next job ends FAILED, the one after COMPLETED', async () => {
    const sim = await startSim({ faults: { jobFailed: { next: 1 } } });
    const first = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const second = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    expect((await finalStatus(sim, first.request_id)).status).toBe('FAILED');
    expect((await finalStatus(sim, second.request_id)).status).toBe('COMPLETED');
  });

  it('jobError: the job ends ERROR and is refunded', async () => {
    const sim = await startSim({ faults: { jobError: { next: 1 } } });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    expect(await finalStatus(sim, request_id)).toMatchObject({
      status: 'ERROR',
      error: expect.stringContaining('not been charged'),
    });
    expect(sim.balanceOf(KEY)).toBe(5);
  });

  it('vanish: an accepted job answers 404 on status, even after it would have ended', async () => {
    const sim = await startSim({ faults: { vanish: { next: 1 } } });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    await vi.waitFor(() => expect(sim.job(request_id)?.status).toBe('COMPLETED'), CLOCK_WAIT);
    expect(sim.job(request_id)?.vanished).toBe(true);
    const response = await getStatus(sim, request_id);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: 'Not Found',
      message: `Request '${request_id}' not found`,
    });
  });
});

describe('fault settings', () => {
  async function statuses(sim: PixazoSim, count: number): Promise<number[]> {
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const seen: number[] = [];
    for (let i = 0; i < count; i++) seen.push(await statusOf(getStatus(sim, request_id)));
    return seen;
  }

  it('draws probabilistic faults from the seed, reproducibly', async () => {
    const faults = { serverError: { probability: 0.5, route: 'status' as const } };
    const a = await statuses(await startSim({ seed: 7, faults }), 24);
    const b = await statuses(await startSim({ seed: 7, faults }), 24);
    const c = await statuses(await startSim({ seed: 8, faults }), 24);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).toContain(500);
    expect(a).toContain(200);
  });

  it('counts down `next`, shows what is left, and can be switched off or reset', async () => {
    const sim = await startSim();
    sim.setFaults({ serverError: { next: 2 }, jobFailed: { probability: 1 } });
    expect(await statusOf(submit(sim, SEED_TURBO_FULL_EXAMPLE))).toBe(500);
    expect(sim.faults()).toEqual({ serverError: { next: 1 }, jobFailed: { probability: 1 } });
    sim.setFaults({ serverError: null });
    expect(sim.faults()).toEqual({ jobFailed: { probability: 1 } });
    sim.resetFaults();
    expect(sim.faults()).toEqual({});
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    expect((await finalStatus(sim, request_id)).status).toBe('COMPLETED');
  });

  it('rejects invalid settings with the field named', async () => {
    const sim = await startSim();
    expect(() => sim.setFaults({ serverError: { probability: 2 } })).toThrow(
      /serverError\.probability/,
    );
    expect(() => sim.setFaults({ slow: { route: 'everywhere' as 'any' } })).toThrow(/slow\.route/);
    expect(sim.faults()).toEqual({});
  });
});

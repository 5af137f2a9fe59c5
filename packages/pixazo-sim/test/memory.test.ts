import { describe, expect, it, vi } from 'vitest';
import { ByteLru } from '../src/lru.ts';
import { RingLog } from '../src/ring-log.ts';
import {
  CLOCK_WAIT,
  finalStatus,
  getStatus,
  SEED_TURBO_FULL_EXAMPLE,
  startSim,
  submitOk,
} from './helpers.ts';

describe('job store bounds', () => {
  it('forgets a finished job once its TTL has passed', async () => {
    // Long enough to see the job finished before it goes, however busy the machine: polls
    // come milliseconds apart when it is idle.
    const sim = await startSim({ jobTtlMs: 500 });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    await finalStatus(sim, request_id);
    await vi.waitFor(
      async () => expect((await getStatus(sim, request_id)).status).toBe(404),
      CLOCK_WAIT,
    );
    expect(sim.jobs()).toEqual([]);
  });

  it('past maxJobs, evicts the oldest finished job before any running one', async () => {
    const sim = await startSim({ maxJobs: 3 });
    // ~2 s at this scale: still running when the fourth job arrives.
    const long = await submitOk(
      sim,
      { prompt: 'slow', image_size: 'square_1_1', num_inference_steps: 100, num_images: 4 },
      { model: 'base' },
    );
    const old = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const recent = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    await finalStatus(sim, old.request_id);
    await finalStatus(sim, recent.request_id);
    const newest = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);

    expect(sim.job(long.request_id)?.status).not.toMatch(/COMPLETED|FAILED|ERROR/);
    expect(sim.jobs().map((j) => j.request_id)).toEqual([
      long.request_id,
      recent.request_id,
      newest.request_id,
    ]);
    expect((await getStatus(sim, old.request_id)).status).toBe(404);
  });

  it('evicts the oldest job when none has finished', async () => {
    const sim = await startSim({ maxJobs: 2, timeScale: 1 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await submitOk(sim, SEED_TURBO_FULL_EXAMPLE)).request_id);
    expect(sim.jobs().map((j) => j.request_id)).toEqual(ids.slice(1));
  });
});

describe('RingLog (the request and webhook logs)', () => {
  it('keeps only the latest entries, oldest first', () => {
    const log = new RingLog<{ path: string }>(3);
    for (let i = 0; i < 5; i++) log.record({ path: `/${i}` });
    expect(log.entries().map((e) => e.path)).toEqual(['/2', '/3', '/4']);
    expect(log.entries({ path: '/3' })).toHaveLength(1);
  });

  it('bounds the log of a running simulator', async () => {
    const sim = await startSim({ requestLogSize: 4 });
    for (let i = 0; i < 6; i++) await fetch(`${sim.url}/nothing/${i}`);
    expect(sim.requests().map((r) => r.path)).toEqual([
      '/nothing/2',
      '/nothing/3',
      '/nothing/4',
      '/nothing/5',
    ]);
  });
});

describe('ByteLru', () => {
  const bytes = (n: number) => Buffer.alloc(n);

  it('evicts the least recently used entries past its byte bound', () => {
    const lru = new ByteLru(10);
    lru.set('a', bytes(4));
    lru.set('b', bytes(4));
    lru.get('a');
    lru.set('c', bytes(4));
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBeDefined();
    expect(lru.get('c')).toBeDefined();
    expect(lru.bytes).toBe(8);
  });

  it('does not keep a value larger than the whole bound', () => {
    const lru = new ByteLru(10);
    lru.set('a', bytes(4));
    lru.set('huge', bytes(11));
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.size).toBe(1);
  });
});

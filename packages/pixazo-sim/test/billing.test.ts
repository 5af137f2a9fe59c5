import { describe, expect, it } from 'vitest';
import {
  finalStatus,
  KEY,
  SEED_TURBO_FULL_EXAMPLE,
  startSim,
  submit,
  submitOk,
} from './helpers.ts';

const INSUFFICIENT = {
  error: 'Insufficient Balance',
  message: 'Your wallet does not have enough balance.',
};

describe('wallet', () => {
  it('charges price × images on acceptance, per model', async () => {
    const sim = await startSim();
    await submitOk(sim, { ...SEED_TURBO_FULL_EXAMPLE, num_images: 3 });
    expect(sim.balanceOf(KEY)).toBeCloseTo(5 - 3 * 0.008, 9);
    await submitOk(
      sim,
      { prompt: 'a boat', image_size: 'square_1_1', num_images: 4 },
      { model: 'base' },
    );
    expect(sim.balanceOf(KEY)).toBeCloseTo(5 - 3 * 0.008 - 4 * 0.01, 9);
  });

  it('answers 402 when the balance is below the cost, and charges nothing', async () => {
    const sim = await startSim({ keys: { [KEY]: 0.01 } });
    await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const response = await submit(sim, SEED_TURBO_FULL_EXAMPLE);
    expect(response.status).toBe(402);
    expect(await response.json()).toEqual(INSUFFICIENT);
    expect(sim.balanceOf(KEY)).toBeCloseTo(0.002, 9);
    expect(sim.jobs()).toHaveLength(1);
  });

  it('charges for a FAILED job ([sim:fail]) and reports its error', async () => {
    const sim = await startSim();
    const { request_id } = await submitOk(sim, {
      ...SEED_TURBO_FULL_EXAMPLE,
      prompt: 'x [sim:fail]',
    });
    const done = await finalStatus(sim, request_id);
    expect(done).toMatchObject({ status: 'FAILED', output: null, error: expect.any(String) });
    expect(done.completed_at).not.toBeNull();
    expect(sim.balanceOf(KEY)).toBeCloseTo(5 - 0.008, 9);
  });

  it('refunds an ERROR job ([sim:error]) once it has ended', async () => {
    // ~0.5 s, so the charge is still visible right after the submit.
    const sim = await startSim({ timeScale: 0.2 });
    const { request_id } = await submitOk(sim, {
      ...SEED_TURBO_FULL_EXAMPLE,
      prompt: 'x [sim:error]',
    });
    expect(sim.balanceOf(KEY)).toBeCloseTo(5 - 0.008, 9);
    const done = await finalStatus(sim, request_id);
    expect(done).toMatchObject({ status: 'ERROR', output: null, error: expect.any(String) });
    expect(sim.balanceOf(KEY)).toBe(5);
  });
});

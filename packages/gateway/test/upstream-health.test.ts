import { NetworkError, PixazoHttpError, RateLimitedError } from '@zimage/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../src/domain/logger.ts';
import { GatewayError } from '../src/errors.ts';
import {
  createUpstreamHealth,
  type UpstreamHealthOptions,
  upstreamConditionOf,
} from '../src/jobs/upstream-health.ts';

function setup(options: UpstreamHealthOptions = {}) {
  const states: boolean[] = [];
  const logs: { level: string; message: string }[] = [];
  const log =
    (level: string) =>
    (_fields: Record<string, unknown>, message: string): void => {
      logs.push({ level, message });
    };
  const health = createUpstreamHealth({
    options,
    logger: { ...silentLogger, info: log('info'), warn: log('warn') },
    metrics: { pixazoUpstreamState: (degraded) => states.push(degraded) },
  });
  let readies = 0;
  health.onReady(() => readies++);
  return { health, states, logs, readies: () => readies };
}

const http = (status: number, code: ConstructorParameters<typeof PixazoHttpError>[0]) =>
  new PixazoHttpError(code, `Pixazo answered ${status}`, { status });

describe('upstreamConditionOf', () => {
  it('reads a condition only from what proves Pixazo cannot take work', () => {
    expect(upstreamConditionOf(http(402, 'INSUFFICIENT_BALANCE'))).toBe('wallet_empty');
    expect(upstreamConditionOf(http(401, 'UNAUTHORIZED'))).toBe('key_rejected');
    expect(upstreamConditionOf(http(403, 'FORBIDDEN'))).toBe('key_rejected');
    const refused = new NetworkError('refused', {
      connectFailed: true,
      causeCodes: ['ECONNREFUSED'],
    });
    expect(upstreamConditionOf(refused)).toBe('unreachable');

    const reset = new NetworkError('reset', { connectFailed: false, causeCodes: ['ECONNRESET'] });
    for (const error of [
      reset,
      http(400, 'BAD_REQUEST'),
      http(500, 'SERVER_ERROR'),
      new RateLimitedError('slow down', {}),
      new Error('anything'),
    ]) {
      expect(upstreamConditionOf(error)).toBeNull();
    }
  });
});

describe('upstream health', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('is healthy at first: no refusal, every job may go', () => {
    const { health } = setup();
    expect(health.state()).toBeNull();
    expect(health.refusal()).toBeNull();
    expect(['a', 'b', 'c'].map((id) => health.maySubmit(id))).toEqual([true, true, true]);
  });

  it('refuses new jobs during a condition with the contract code and the seconds left', () => {
    const { health, states, logs } = setup();
    health.conditionMet('wallet_empty', { jobId: 'a' });
    let refusal = health.refusal() as GatewayError;
    expect(refusal).toBeInstanceOf(GatewayError);
    expect(refusal.code).toBe('INSUFFICIENT_BALANCE');
    expect(refusal.message).toBe(
      "The gateway's Pixazo wallet has insufficient balance; try again in 60 s",
    );
    expect(refusal.extensions.retryAfterSeconds).toBe(60);
    expect(health.maySubmit('b')).toBe(false);

    vi.advanceTimersByTime(45_500);
    expect((health.refusal() as GatewayError).extensions.retryAfterSeconds).toBe(15);

    health.conditionMet('key_rejected');
    refusal = health.refusal() as GatewayError;
    expect(refusal.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(refusal.message).toMatch(
      /^Pixazo is rejecting the gateway's API key; try again in 60 s$/,
    );

    health.conditionMet('unreachable');
    refusal = health.refusal() as GatewayError;
    expect(refusal.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(refusal.message).toBe('Pixazo is unreachable from the gateway; try again in 15 s');
    expect(refusal.extensions.retryAfterSeconds).toBe(15);

    // One warning per condition entered, the gauge set each time.
    expect(logs.filter((l) => l.level === 'warn')).toHaveLength(3);
    expect(states).toEqual([true, true, true]);
  });

  it('after the cooldown lets exactly one probe through; its success ends the condition', async () => {
    const { health, states, logs, readies } = setup({ cooldownMs: { wallet_empty: 5_000 } });
    health.conditionMet('wallet_empty', { jobId: 'a' });
    health.conditionMet('wallet_empty', { jobId: 'b' }); // a renewal: no second warning
    expect(health.maySubmit('c')).toBe(false);

    await vi.advanceTimersByTimeAsync(5_000);
    expect(readies()).toBe(1);
    expect(health.refusal()).toBeNull(); // new jobs are accepted (and wait for the probe)
    expect(health.state()?.condition).toBe('wallet_empty');
    expect(health.maySubmit('c')).toBe(true);
    expect(health.maySubmit('d')).toBe(false);

    health.submissionAccepted('elsewhere'); // sent before the condition: says nothing now
    expect(health.state()).not.toBeNull();
    health.submissionAccepted('c');
    expect(health.state()).toBeNull();
    expect(health.maySubmit('d')).toBe(true);
    expect(health.maySubmit('e')).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(readies()).toBe(2);
    expect(states).toEqual([true, false]);
    expect(logs.map((l) => l.level)).toEqual(['warn', 'info', 'info']);
  });

  it('renews the condition when the probe meets it again', async () => {
    const { health } = setup({ cooldownMs: { unreachable: 1_000 } });
    health.conditionMet('unreachable');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.maySubmit('probe')).toBe(true);
    health.conditionMet('unreachable', { jobId: 'probe' });
    health.submissionSettled('probe');
    expect(health.refusal()?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(health.maySubmit('next')).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.maySubmit('next')).toBe(true);
  });

  it('lets the next job probe when a probe ends without a verdict', async () => {
    const { health, readies } = setup({ cooldownMs: { key_rejected: 1_000 } });
    health.conditionMet('key_rejected');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readies()).toBe(1);
    expect(health.maySubmit('probe')).toBe(true);
    expect(health.maySubmit('next')).toBe(false);
    health.submissionSettled('probe'); // e.g. a 400, or it was cancelled before its POST
    await vi.advanceTimersByTimeAsync(0);
    expect(readies()).toBe(2);
    expect(health.maySubmit('next')).toBe(true);
  });

  it('notices the end of a cooldown on an injected clock within a second', async () => {
    let offset = 0;
    const { health, readies } = setup({ now: () => Date.now() + offset });
    health.conditionMet('wallet_empty');
    offset = 60_000;
    expect(health.refusal()).toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readies()).toBe(1);
  });

  it('leaves no timer and calls no listener once stopped', async () => {
    const { health, readies } = setup({ cooldownMs: { unreachable: 1_000 } });
    health.conditionMet('unreachable');
    expect(vi.getTimerCount()).toBe(1);
    health.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(readies()).toBe(0);
  });

  it('rejects a negative cooldown', () => {
    expect(() => setup({ cooldownMs: { unreachable: -1 } })).toThrow(RangeError);
  });
});

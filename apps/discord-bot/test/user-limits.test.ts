import { describe, expect, it } from 'vitest';
import { UserLimits } from '../src/user-limits.ts';
import { FakeClock } from './helpers/fake-clock.ts';

describe('UserLimits', () => {
  it('caps the jobs one user has in flight, and frees a place when one finishes', () => {
    const clock = new FakeClock();
    const limits = new UserLimits({ maxInFlight: 2, cooldownSeconds: 0, clock });
    const first = limits.admit('u1');
    const second = limits.admit('u1');
    expect(first.ok && second.ok).toBe(true);
    expect(limits.admit('u1')).toEqual({
      ok: false,
      problem: { kind: 'too-many-in-flight', limit: 2 },
    });
    expect(limits.admit('u2').ok).toBe(true);
    if (first.ok) first.value.finish();
    expect(limits.admit('u1').ok).toBe(true);
  });

  it('makes a user wait out the cooldown after an admitted request', async () => {
    const clock = new FakeClock();
    const limits = new UserLimits({ maxInFlight: 0, cooldownSeconds: 5, clock });
    const start = clock.now();
    expect(limits.admit('u1').ok).toBe(true);
    await clock.advance(4_999);
    expect(limits.admit('u1')).toEqual({
      ok: false,
      problem: { kind: 'cooldown', retryAt: start + 5_000 },
    });
    await clock.advance(1);
    expect(limits.admit('u1').ok).toBe(true);
  });

  it('forgets a withdrawn request entirely: no cooldown, no place taken', () => {
    const clock = new FakeClock();
    const limits = new UserLimits({ maxInFlight: 1, cooldownSeconds: 60, clock });
    const admitted = limits.admit('u1');
    if (!admitted.ok) throw new Error('not admitted');
    admitted.value.withdraw();
    admitted.value.withdraw();
    expect(limits.admit('u1').ok).toBe(true);
  });
});

import { ZimageError } from '@zimage/client';
import { describe, expect, it } from 'vitest';
import { problemOf } from '../src/problems.ts';

describe('problemOf', () => {
  it('turns gateway errors into problems, with the retry time for RATE_LIMITED', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(
      problemOf(new ZimageError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 30 }), now),
    ).toEqual({
      kind: 'gateway',
      code: 'RATE_LIMITED',
      message: 'slow down',
      field: undefined,
      retryAt: now + 30_000,
    });
    expect(problemOf(new Error('boom'), now)).toEqual({ kind: 'unexpected' });
  });
});

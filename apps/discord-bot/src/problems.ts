/**
 * Something that stopped a request, which the user can fix or wait out; the presenter turns
 * each into a short message.
 */
import { ZimageError, type ZimageErrorCode } from '@zimage/client';

export type Problem =
  | { kind: 'invalid-option'; option: string; message: string }
  | { kind: 'safety-off-outside-age-restricted' }
  | { kind: 'too-many-in-flight'; limit: number }
  | { kind: 'cooldown'; retryAt: number }
  | { kind: 'not-owner' }
  | { kind: 'unknown-button' }
  | { kind: 'job-not-found'; jobId: string }
  /** Cancel came after the job reached Pixazo: it is paid, so it is not cancelled. */
  | { kind: 'already-sent' }
  | { kind: 'already-ended' }
  | {
      kind: 'gateway';
      code: ZimageErrorCode;
      message?: string | undefined;
      field?: string | undefined;
      retryAt?: number | undefined;
    }
  /** Anything that is not the gateway's answer: a bug, most likely; the log has it. */
  | { kind: 'unexpected' };

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: Problem };

/** The problem to show for a failed gateway call. */
export function problemOf(error: unknown, now: number): Problem {
  if (!(error instanceof ZimageError)) return { kind: 'unexpected' };
  return {
    kind: 'gateway',
    code: error.code,
    message: error.message,
    field: error.field,
    retryAt:
      error.retryAfterSeconds === undefined ? undefined : now + error.retryAfterSeconds * 1000,
  };
}

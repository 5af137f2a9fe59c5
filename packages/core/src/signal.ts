/**
 * AbortSignal plumbing shared by every wait in the client. A deadline is an abort whose reason
 * is a TimeoutError, so sleeps, fetches and retries stop the same way for a caller's abort and
 * for a deadline, and the error that surfaces says which one it was.
 */
import { PixazoError } from '@zimage/pixazo-spec';
import { AbortError, type TimeoutError } from './errors.ts';

/** The typed error for an aborted signal: its reason when that is already ours, else AbortError. */
export function abortErrorFrom(signal: AbortSignal): PixazoError {
  const reason: unknown = signal.reason;
  if (reason instanceof PixazoError) return reason;
  return new AbortError('The operation was aborted', { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortErrorFrom(signal);
}

export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer and detaches from the parent signal; call it when the work is done. */
  dispose(): void;
}

/**
 * A signal that aborts when `parent` does, or after `ms` with the TimeoutError `onTimeout()`
 * builds (built lazily, so it can describe the state at the moment the deadline passed).
 */
export function withDeadline(
  parent: AbortSignal | undefined,
  ms: number,
  onTimeout: () => TimeoutError,
): Deadline {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const timer = Number.isFinite(ms)
    ? setTimeout(() => controller.abort(onTimeout()), Math.max(0, ms))
    : undefined;
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

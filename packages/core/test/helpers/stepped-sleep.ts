/**
 * A client `sleep` the test steps through: a sleep ends when the test calls `wake()`, or when
 * its signal aborts (rejecting as core's sleep does), never by itself. The test then knows
 * where a polling loop is, and once no sleep is pending after an abort, nothing is left that
 * could wake the loop up to poll again.
 */
import type { SleepFn } from '../../src/index.ts';
import { abortErrorFrom } from '../../src/signal.ts';

export interface SteppedSleep {
  sleep: SleepFn;
  /** Resolves once the `n`-th sleep (counting from 1) has begun. */
  begun(n: number): Promise<void>;
  /** Ends every pending sleep. */
  wake(): void;
  /** Sleeps begun so far. */
  readonly count: number;
  /** Sleeps begun and not ended. */
  readonly pending: number;
}

export function steppedSleep(): SteppedSleep {
  const sleeping = new Set<() => void>();
  const waiters = new Set<() => void>();
  let count = 0;
  const sleep: SleepFn = (_ms, signal) =>
    new Promise<void>((resolve, reject) => {
      count += 1;
      for (const check of [...waiters]) check();
      if (signal?.aborted) return reject(abortErrorFrom(signal));
      const end = () => {
        sleeping.delete(wake);
        signal?.removeEventListener('abort', onAbort);
      };
      const wake = () => {
        end();
        resolve();
      };
      const onAbort = () => {
        end();
        reject(abortErrorFrom(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      sleeping.add(wake);
    });
  return {
    sleep,
    begun: (n) =>
      new Promise((resolve) => {
        const check = () => {
          if (count < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    wake() {
      for (const wake of [...sleeping]) wake();
    },
    get count() {
      return count;
    },
    get pending() {
      return sleeping.size;
    },
  };
}

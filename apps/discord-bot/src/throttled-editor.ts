import type { Clock } from './clock.ts';

/**
 * Edits of one message, at most one per `minIntervalMs` (Discord rate-limits message edits,
 * and a user cannot read faster anyway). Intermediate states may be skipped, only the newest
 * pending one is sent; the final state is always sent, last, and never overtaken.
 */
export class ThrottledEditor<T> {
  readonly #send: (value: T) => Promise<void>;
  readonly #clock: Clock;
  readonly #minIntervalMs: number;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #pending: { value: T } | undefined;
  #sending = false;
  /** A timer will pump once the interval has passed. */
  #waiting = false;
  #finalQueued = false;
  /** Settles once the final state has been sent. */
  readonly #drained = Promise.withResolvers<void>();

  constructor(options: {
    send: (value: T) => Promise<void>;
    clock: Clock;
    minIntervalMs?: number;
  }) {
    this.#send = options.send;
    this.#clock = options.clock;
    this.#minIntervalMs = options.minIntervalMs ?? 2000;
  }

  /** Shows `value` as soon as the interval allows, unless something newer comes first. */
  push(value: T): void {
    if (this.#finalQueued) return;
    this.#pending = { value };
    this.#pump();
  }

  /** Shows `value` last; resolves once it has been sent (or its sending failed). */
  finish(value: T): Promise<void> {
    if (!this.#finalQueued) {
      this.#finalQueued = true;
      this.#pending = { value };
    }
    this.#pump();
    return this.#drained.promise;
  }

  #pump(): void {
    if (this.#sending || this.#waiting) return;
    if (!this.#pending) {
      if (this.#finalQueued) this.#drained.resolve();
      return;
    }
    const wait = this.#lastSentAt + this.#minIntervalMs - this.#clock.now();
    if (wait > 0) {
      this.#waiting = true;
      this.#clock.setTimer(() => {
        this.#waiting = false;
        this.#pump();
      }, wait);
      return;
    }
    const { value } = this.#pending;
    this.#pending = undefined;
    this.#sending = true;
    this.#lastSentAt = this.#clock.now();
    const done = () => {
      this.#sending = false;
      this.#pump();
    };
    // `send` reports its own failures; a failed edit must not stop the later ones.
    this.#send(value).then(done, done);
  }
}

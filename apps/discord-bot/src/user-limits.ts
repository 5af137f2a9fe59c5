import type { Clock } from './clock.ts';
import type { Checked } from './problems.ts';

/** A user's place in the bot's own limits, held from admission until the job ends. */
export interface Admission {
  /** The job ran (or at least reached the gateway): the cooldown stands. */
  finish(): void;
  /** The request never became a job: as if it had not been made. */
  withdraw(): void;
}

/**
 * Per-user in-flight cap and cooldown, in front of the gateway's own per-user limits: they
 * answer at once, without a network call, so a user spamming /imagine never costs a request.
 */
export class UserLimits {
  readonly #maxInFlight: number;
  readonly #cooldownMs: number;
  readonly #clock: Clock;
  readonly #inFlight = new Map<string, number>();
  readonly #lastAdmittedAt = new Map<string, number>();

  constructor(options: { maxInFlight: number; cooldownSeconds: number; clock: Clock }) {
    this.#maxInFlight = options.maxInFlight;
    this.#cooldownMs = options.cooldownSeconds * 1000;
    this.#clock = options.clock;
  }

  admit(userId: string): Checked<Admission> {
    const now = this.#clock.now();
    const running = this.#inFlight.get(userId) ?? 0;
    if (this.#maxInFlight > 0 && running >= this.#maxInFlight) {
      return { ok: false, problem: { kind: 'too-many-in-flight', limit: this.#maxInFlight } };
    }
    const previous = this.#lastAdmittedAt.get(userId);
    if (previous !== undefined && now < previous + this.#cooldownMs) {
      return { ok: false, problem: { kind: 'cooldown', retryAt: previous + this.#cooldownMs } };
    }
    this.#inFlight.set(userId, running + 1);
    this.#lastAdmittedAt.set(userId, now);
    let settled = false;
    const release = () => {
      if (settled) return false;
      settled = true;
      const left = (this.#inFlight.get(userId) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(userId, left);
      else this.#inFlight.delete(userId);
      return true;
    };
    return {
      ok: true,
      value: {
        finish: () => void release(),
        withdraw: () => {
          if (!release()) return;
          if (previous === undefined) this.#lastAdmittedAt.delete(userId);
          else this.#lastAdmittedAt.set(userId, previous);
        },
      },
    };
  }
}

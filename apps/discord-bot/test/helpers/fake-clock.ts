import type { Clock } from '../../src/clock.ts';

/** A clock that moves only when the test says so; timers fire in order as it passes them. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; order: number; run: () => void }[] = [];
  #order = 0;

  constructor(start = Date.parse('2026-01-01T12:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(run: () => void, ms: number): () => void {
    const timer = { at: this.#now + Math.max(0, ms), order: this.#order++, run };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers and letting the promises they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const due = this.#timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.run();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets every already-resolved promise chain run to its end. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** One ordered record of what reached the fake Discord and the gateway, to assert on order. */
type Source = 'discord' | 'gateway';

export interface TimelineEvent {
  source: Source;
  what: string;
}

export class Timeline {
  readonly events: TimelineEvent[] = [];
  /** Checks of pending `waitFor` calls, run on every new event. */
  readonly #waiters = new Set<() => void>();

  record(source: Source, what: string): void {
    this.events.push({ source, what });
    for (const check of [...this.#waiters]) check();
  }

  indexOf(source: Source, what?: RegExp): number {
    return this.events.findIndex((e) => matches(e, source, what));
  }

  /** Resolves once `count` events from `source` (matching `what`) have been recorded. */
  waitFor(source: Source, what?: RegExp, count = 1): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.events.filter((e) => matches(e, source, what)).length < count) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }
}

function matches(event: TimelineEvent, source: Source, what: RegExp | undefined): boolean {
  return event.source === source && (!what || what.test(event.what));
}

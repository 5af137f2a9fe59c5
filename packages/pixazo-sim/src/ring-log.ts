/**
 * A bounded log of records, oldest first: a ring buffer that keeps only the latest `capacity`
 * entries, so a simulator that runs for days does not grow. The request log and the webhook
 * delivery log are both one.
 */
export class RingLog<T extends object> {
  readonly #capacity: number;
  #entries: T[] = [];
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Appends `entry` and returns it, so the caller can fill in the outcome later. */
  record(entry: T): T {
    if (this.#entries.length < this.#capacity) this.#entries.push(entry);
    else this.#entries[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#capacity;
    return entry;
  }

  /** Copies of the entries whose fields equal every defined field of `filter`, oldest first. */
  entries(filter: Partial<T> = {}): T[] {
    const ordered =
      this.#entries.length < this.#capacity
        ? this.#entries
        : [...this.#entries.slice(this.#next), ...this.#entries.slice(0, this.#next)];
    const wanted = Object.entries(filter).filter(([, v]) => v !== undefined);
    return ordered
      .filter((e) => wanted.every(([k, v]) => e[k as keyof T] === v))
      .map((e) => ({ ...e }));
  }

  clear(): void {
    this.#entries = [];
    this.#next = 0;
  }
}

/**
 * A least-recently-used cache of byte buffers bounded by their total size. Relies on Map
 * keeping insertion order: a read moves the entry to the end, eviction takes from the front.
 */
export class ByteLru {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Buffer>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Buffer | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** Stores the value unless it alone exceeds the bound, evicting the least recently used. */
  set(key: string, value: Buffer): void {
    this.delete(key);
    if (value.length > this.#maxBytes) return;
    this.#entries.set(key, value);
    this.#bytes += value.length;
    for (const [oldKey] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.delete(oldKey);
    }
  }

  delete(key: string): void {
    const value = this.#entries.get(key);
    if (value === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= value.length;
  }
}

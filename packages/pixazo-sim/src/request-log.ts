/**
 * The requests the simulator received (control requests excepted), so tests can count what a
 * client really sent. A ring buffer: only the latest `capacity` entries are kept.
 */
export type RouteKind = 'submit' | 'status' | 'media' | 'unknown';

export interface RequestLogEntry {
  /** ISO time of arrival. */
  at: string;
  method: string;
  /** Path without the query string. */
  path: string;
  route: RouteKind;
  /** Fingerprint of the `Ocp-Apim-Subscription-Key` sent (see `keyFingerprint`), never the key. */
  keyId: string | null;
  /** The status answered; null while in flight or when the connection was dropped. */
  status: number | null;
  /** The simulator dropped the connection instead of answering (a fault). */
  dropped: boolean;
}

export type RequestFilter = Partial<
  Pick<RequestLogEntry, 'method' | 'path' | 'route' | 'keyId' | 'status'>
>;

export class RequestLog {
  readonly #capacity: number;
  #entries: RequestLogEntry[] = [];
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Appends an entry and returns it, so the caller can fill in the outcome later. */
  record(entry: Omit<RequestLogEntry, 'status' | 'dropped'>): RequestLogEntry {
    const full: RequestLogEntry = { ...entry, status: null, dropped: false };
    if (this.#entries.length < this.#capacity) this.#entries.push(full);
    else this.#entries[this.#next] = full;
    this.#next = (this.#next + 1) % this.#capacity;
    return full;
  }

  /** Oldest first. */
  entries(filter: RequestFilter = {}): RequestLogEntry[] {
    const ordered =
      this.#entries.length < this.#capacity
        ? this.#entries
        : [...this.#entries.slice(this.#next), ...this.#entries.slice(0, this.#next)];
    const wanted = Object.entries(filter).filter(([, v]) => v !== undefined);
    return ordered
      .filter((e) => wanted.every(([k, v]) => e[k as keyof RequestLogEntry] === v))
      .map((e) => ({ ...e }));
  }

  clear(): void {
    this.#entries = [];
    this.#next = 0;
  }
}

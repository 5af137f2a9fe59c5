/**
 * Fan-out of identical subscriptions. Thousands of clients watching one job all send the same
 * operation with the same visibility, so executing it once per event and handing the same
 * result to every subscriber turns N executions per change into one. The first subscriber of
 * a key starts the source; later ones join it; the source stops when the last one leaves, and
 * every subscriber completes (or fails) when the source does.
 *
 * Per-subscriber state is one small object with a bounded queue, so an idle subscriber costs
 * a few hundred bytes here.
 *
 * Delivering costs more than executing once N is large: each value also goes through every
 * subscriber's iterator, its consumer's promise chain and its own serialization. A subscriber
 * may therefore bring a `direct` sink (the WebSocket it answers on): while its consumer is idle,
 * parked on next() with nothing queued, each value goes straight to the sink, serialized once
 * per event for everyone (`serialize`). Anything else (a consumer still busy with the previous
 * value, a sink that cannot take it at once) falls back to the queue, so the order and the
 * bounded-queue rules stay the same.
 */

/** Where a subscriber's values can go without passing through its iterator. */
export interface DirectSink<T> {
  /**
   * Delivers `value` now, if the transport can take it at once (nothing of this subscriber's
   * is still waiting to be written); false leaves it to the iterator. `serialized` is the
   * value serialized once per event by the source's `serialize`.
   */
  deliver(value: T, serialized: () => string): boolean;
}

export interface JoinOptions<T = unknown> {
  /**
   * A late joiner first receives the source's latest value. Right for subscriptions whose
   * first value is "the current state" (jobUpdated); wrong for pure change feeds (myJobs).
   */
  replayLatest: boolean;
  /** Direct delivery while the subscriber's consumer is idle (needs `serialize`). */
  direct?: DirectSink<T> | undefined;
}

export interface SharedSubscriptionsOptions<T> {
  /** Serializes a value for direct sinks; called at most once per value. */
  serialize?: ((value: T) => string) | undefined;
}

type SourceResult<T> = AsyncIterable<T> | T;

/** Values a subscriber has not read yet; past it the oldest go (each value is a full state). */
const MAX_QUEUED_PER_SUBSCRIBER = 16;

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<T>)[Symbol.asyncIterator] === 'function'
  );
}

/** A thenable that rejects with `error`: resolving a promise with it rejects that promise. */
function rejecting(error: unknown): PromiseLike<never> {
  return {
    // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose
    then(_onFulfilled, onRejected) {
      return Promise.reject(error).then(undefined, onRejected);
    },
  };
}

class Subscriber<T> implements AsyncIterableIterator<T> {
  #queue: T[] | null = null;
  /** Resolves the pending next() (a failure resolves it with a thenable that rejects). */
  #waiting: ((result: IteratorResult<T> | PromiseLike<never>) => void) | null = null;
  #ended = false;
  #error: { value: unknown } | null = null;
  // The source (not a closure per subscriber) is how a subscriber leaves.
  readonly #source: SharedSource<T>;
  readonly #direct: DirectSink<T> | null;

  constructor(source: SharedSource<T>, direct: DirectSink<T> | null) {
    this.#source = source;
    this.#direct = direct;
  }

  /** `serialized` is given by sources that can serialize (for the direct sink). */
  push(value: T, serialized?: () => string): void {
    if (this.#ended) return;
    if (this.#waiting) {
      // Parked on next(): nothing queued and the previous value fully handed over.
      if (serialized && this.#direct?.deliver(value, serialized)) return;
      const resolve = this.#waiting;
      this.#waiting = null;
      resolve({ value, done: false });
      return;
    }
    this.#queue ??= [];
    if (this.#queue.length >= MAX_QUEUED_PER_SUBSCRIBER) this.#queue.shift();
    this.#queue.push(value);
  }

  /** The source ended: queued values are still delivered, then done (or the error). */
  finish(error?: { value: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error ?? null;
    const resolve = this.#waiting;
    this.#waiting = null;
    if (!resolve) return;
    if (error) resolve(rejecting(error.value));
    else resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const queue = this.#queue;
    if (queue) {
      const queued = queue.shift();
      // An idle subscriber keeps no empty array (nearly every late joiner queued its replay).
      if (queue.length === 0) this.#queue = null;
      if (queued !== undefined) return Promise.resolve({ value: queued, done: false });
    }
    if (this.#ended) {
      const error = this.#error;
      this.#error = null;
      return error
        ? Promise.reject(error.value)
        : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** The client left (completed the operation or closed the socket). */
  return(): Promise<IteratorResult<T>> {
    this.#queue = null;
    this.finish();
    this.#source.leave(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

class SharedSource<T> {
  readonly subscribers = new Set<Subscriber<T>>();
  latest: { value: T } | null = null;
  #iterator: AsyncIterator<T> | null = null;
  #stopped = false;
  readonly #serialize: ((value: T) => string) | undefined;
  readonly #onLeave: (source: SharedSource<T>, subscriber: Subscriber<T>) => void;

  constructor(
    start: () => Promise<SourceResult<T>> | SourceResult<T>,
    serialize: ((value: T) => string) | undefined,
    onEnd: () => void,
    onLeave: (source: SharedSource<T>, subscriber: Subscriber<T>) => void,
  ) {
    this.#serialize = serialize;
    this.#onLeave = onLeave;
    this.#run(start).finally(onEnd);
  }

  /** A subscriber left (completed or closed its socket). */
  leave(subscriber: Subscriber<T>): void {
    this.#onLeave(this, subscriber);
  }

  /** The value, serialized at most once for all subscribers (none when nothing serializes). */
  #serializer(value: T): (() => string) | undefined {
    const serialize = this.#serialize;
    if (!serialize) return undefined;
    let text: string | undefined;
    return () => {
      text ??= serialize(value);
      return text;
    };
  }

  async #run(start: () => Promise<SourceResult<T>> | SourceResult<T>): Promise<void> {
    try {
      const result = await start();
      if (!isAsyncIterable<T>(result)) {
        // A single result (an error at subscribe time): everyone waiting gets it, then done.
        const serialized = this.#serializer(result);
        for (const subscriber of this.subscribers) {
          subscriber.push(result, serialized);
          subscriber.finish();
        }
        return;
      }
      this.#iterator = result[Symbol.asyncIterator]();
      if (this.#stopped) {
        await this.#iterator.return?.();
        return;
      }
      for (;;) {
        const step = await this.#iterator.next();
        if (step.done || this.#stopped) break;
        this.latest = { value: step.value };
        const serialized = this.#serializer(step.value);
        for (const subscriber of this.subscribers) subscriber.push(step.value, serialized);
      }
      for (const subscriber of this.subscribers) subscriber.finish();
    } catch (error) {
      for (const subscriber of this.subscribers) subscriber.finish({ value: error });
    }
  }

  /** Ended subscribers no longer belong to the source (they may still be reading their queue). */
  detachAll(): number {
    const count = this.subscribers.size;
    this.subscribers.clear();
    return count;
  }

  /** The last subscriber left: stop executing. */
  stop(): void {
    this.#stopped = true;
    void this.#iterator?.return?.();
  }
}

export class SharedSubscriptions<T> {
  readonly #sources = new Map<string, SharedSource<T>>();
  #subscriberCount = 0;
  readonly #serialize: ((value: T) => string) | undefined;

  constructor(options: SharedSubscriptionsOptions<T> = {}) {
    this.#serialize = options.serialize;
  }

  /** Distinct sources being executed. */
  get sourceCount(): number {
    return this.#sources.size;
  }

  /** Subscribers across all sources. */
  get subscriberCount(): number {
    return this.#subscriberCount;
  }

  /**
   * Joins the source for `key`, starting it with `start` when there is none. `start` returns
   * the stream (or a single result, e.g. an error, which then ends every waiting subscriber).
   */
  join(
    key: string,
    start: () => Promise<SourceResult<T>> | SourceResult<T>,
    options: JoinOptions<T>,
  ): AsyncIterableIterator<T> {
    let source = this.#sources.get(key);
    const joiningLate = source !== undefined;
    if (!source) {
      const created: SharedSource<T> = new SharedSource(
        start,
        this.#serialize,
        () => {
          if (this.#sources.get(key) === created) this.#sources.delete(key);
          this.#subscriberCount -= created.detachAll();
        },
        (leftSource, leaving) => {
          if (!leftSource.subscribers.delete(leaving)) return;
          this.#subscriberCount--;
          if (leftSource.subscribers.size === 0) {
            if (this.#sources.get(key) === leftSource) this.#sources.delete(key);
            leftSource.stop();
          }
        },
      );
      source = created;
      this.#sources.set(key, source);
    }
    const joined = source;
    const subscriber = new Subscriber<T>(joined, options.direct ?? null);
    joined.subscribers.add(subscriber);
    this.#subscriberCount++;
    if (joiningLate && options.replayLatest && joined.latest) subscriber.push(joined.latest.value);
    return subscriber;
  }
}

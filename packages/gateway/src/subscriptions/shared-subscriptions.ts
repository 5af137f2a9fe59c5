/**
 * Fan-out of identical subscriptions. Thousands of clients watching one job all send the same
 * operation with the same visibility, so executing it once per event and handing the same
 * result to every subscriber turns N executions per change into one. The first subscriber of
 * a key starts the source; later ones join it; the source stops when the last one leaves, and
 * every subscriber completes (or fails) when the source does.
 *
 * Per-subscriber state is one small object with a bounded queue. A subscriber is an async
 * iterator; its consumer may instead `pipe` it to a sink (the WebSocket it answers on), which
 * is told of each value: then no promise stays pending per idle subscriber, and a value goes
 * out as soon as the source yields it. Either way, a value waits in the subscriber's queue
 * while its consumer is still busy with the previous one, with the same bounded-queue rules.
 */

/** Where a piped subscriber's values go. */
export interface SubscriberSink<T> {
  /** The next value; nothing more comes before the subscriber's `resume()`. */
  next(value: T): void;
  /** No more values: the source ended (or failed with `error.value`), or the client left. */
  end(error?: { value: unknown }): void;
}

/** A subscriber whose consumer is told of its values instead of pulling them. */
export interface PipeableSubscriber<T> extends AsyncIterableIterator<T> {
  /** Sends every value, queued ones first, to `sink`, in place of `next()`. */
  pipe(sink: SubscriberSink<T>): void;
  /** The sink is done with its value: the next one, if any, or the end. */
  resume(): void;
  /** The client left: the sink ends, the subscriber leaves its source. */
  return(): Promise<IteratorResult<T>>;
}

export interface JoinOptions {
  /**
   * A late joiner first receives the source's latest value. Right for subscriptions whose
   * first value is "the current state" (jobUpdated); wrong for pure change feeds (myJobs).
   */
  replayLatest: boolean;
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

class Subscriber<T> implements PipeableSubscriber<T> {
  #queue: T[] | null = null;
  /** Resolves the pending next() (a failure resolves it with a thenable that rejects). */
  #waiting: ((result: IteratorResult<T> | PromiseLike<never>) => void) | null = null;
  #ended = false;
  #error: { value: unknown } | null = null;
  /** Set by pipe(): where values go instead of next(). */
  #sink: SubscriberSink<T> | null = null;
  /** The sink has a value it is not done with (until resume()). */
  #sinkBusy = false;
  // The source (not a closure per subscriber) is how a subscriber leaves.
  readonly #source: SharedSource<T>;

  constructor(source: SharedSource<T>) {
    this.#source = source;
  }

  push(value: T): void {
    if (this.#ended) return;
    if (this.#sink && !this.#sinkBusy) {
      // An idle sink has nothing queued (resume() drains the queue first).
      this.#sinkBusy = true;
      this.#sink.next(value);
      return;
    }
    if (this.#waiting) {
      // Parked on next(): nothing queued and the previous value fully handed over.
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
    if (this.#sink) {
      if (!this.#sinkBusy) this.#endSink();
      return;
    }
    const resolve = this.#waiting;
    this.#waiting = null;
    if (!resolve) return;
    if (error) resolve(rejecting(error.value));
    else resolve({ value: undefined, done: true });
  }

  /** The oldest queued value; an idle subscriber keeps no empty array. */
  #dequeue(): T | undefined {
    const queue = this.#queue;
    if (!queue) return undefined;
    const queued = queue.shift();
    if (queue.length === 0) this.#queue = null;
    return queued;
  }

  pipe(sink: SubscriberSink<T>): void {
    this.#sink = sink;
    this.#sinkBusy = true;
    this.resume();
  }

  resume(): void {
    const sink = this.#sink;
    if (!sink || !this.#sinkBusy) return;
    const queued = this.#dequeue();
    if (queued !== undefined) {
      sink.next(queued);
      return;
    }
    this.#sinkBusy = false;
    if (this.#ended) this.#endSink();
  }

  #endSink(): void {
    const sink = this.#sink;
    const error = this.#error;
    this.#sink = null;
    this.#error = null;
    sink?.end(error ?? undefined);
  }

  next(): Promise<IteratorResult<T>> {
    const queued = this.#dequeue();
    if (queued !== undefined) return Promise.resolve({ value: queued, done: false });
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
  readonly #onLeave: (source: SharedSource<T>, subscriber: Subscriber<T>) => void;

  constructor(
    start: () => Promise<SourceResult<T>> | SourceResult<T>,
    onEnd: () => void,
    onLeave: (source: SharedSource<T>, subscriber: Subscriber<T>) => void,
  ) {
    this.#onLeave = onLeave;
    this.#run(start).finally(onEnd);
  }

  /** A subscriber left (completed or closed its socket). */
  leave(subscriber: Subscriber<T>): void {
    this.#onLeave(this, subscriber);
  }

  async #run(start: () => Promise<SourceResult<T>> | SourceResult<T>): Promise<void> {
    try {
      const result = await start();
      if (!isAsyncIterable<T>(result)) {
        // A single result (an error at subscribe time): everyone waiting gets it, then done.
        for (const subscriber of this.subscribers) {
          subscriber.push(result);
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
        for (const subscriber of this.subscribers) subscriber.push(step.value);
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
    options: JoinOptions,
  ): PipeableSubscriber<T> {
    let source = this.#sources.get(key);
    const joiningLate = source !== undefined;
    if (!source) {
      const created: SharedSource<T> = new SharedSource(
        start,
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
    const subscriber = new Subscriber<T>(joined);
    joined.subscribers.add(subscriber);
    this.#subscriberCount++;
    if (joiningLate && options.replayLatest && joined.latest) subscriber.push(joined.latest.value);
    return subscriber;
  }
}

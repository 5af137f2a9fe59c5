/**
 * One local subscriber's buffer, shared by every adapter: publishing is a synchronous hand-off
 * into it, so a slow subscriber never slows the publisher or the other subscribers down.
 */
import { isGap, type TopicEvent } from './pubsub.ts';

/** Events kept per subscriber that has not read them yet, unless an adapter says otherwise. */
export const DEFAULT_BUFFER_SIZE = 256;

export class BufferedSubscription implements AsyncIterator<TopicEvent>, AsyncIterable<TopicEvent> {
  private readonly buffer: TopicEvent[] = [];
  private waiting: ((result: IteratorResult<TopicEvent>) => void) | null = null;
  private ended = false;
  private readonly bufferSize: number;
  private readonly onEnd: (subscription: BufferedSubscription) => void;

  /** `bufferSize` is at least 2, so that a gap and the newest event both fit. */
  constructor(bufferSize: number, onEnd: (subscription: BufferedSubscription) => void) {
    this.bufferSize = Math.max(2, bufferSize);
    this.onEnd = onEnd;
  }

  /**
   * Past the buffer size the OLDEST job event goes: each event carries the whole job, so the
   * newest one is enough to be up to date. A gap at the head stays (whatever follows it is
   * re-read anyway), and one gap there covers any later one.
   */
  push(event: TopicEvent): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
      return;
    }
    if (this.buffer.length >= this.bufferSize) {
      const head = this.buffer[0];
      this.buffer.splice(head !== undefined && isGap(head) ? 1 : 0, 1);
    }
    this.buffer.push(event);
  }

  /** Ends iteration: a pending next() resolves done, buffered events are dropped. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.buffer.length = 0;
    this.onEnd(this);
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<TopicEvent>> {
    const event = this.buffer.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<TopicEvent>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<TopicEvent> {
    return this;
  }
}

/**
 * The local subscriptions of each topic. Every adapter delivers through it; the Redis one also
 * learns when a topic gets its first subscriber and loses its last (SUBSCRIBE, UNSUBSCRIBE).
 */
export class TopicSubscribers {
  readonly #byTopic = new Map<string, Set<BufferedSubscription>>();
  readonly #bufferSize: number;
  readonly #onEmpty: (topic: string) => void;

  constructor(bufferSize: number, onEmpty: (topic: string) => void = () => {}) {
    this.#bufferSize = bufferSize;
    this.#onEmpty = onEmpty;
  }

  /**
   * A new subscription of `topic`, registered at once (whatever is delivered from now on
   * reaches it), ended by `signal`. `first` tells that the topic had no subscriber before.
   */
  join(
    topic: string,
    signal?: AbortSignal,
  ): { subscription: BufferedSubscription; first: boolean } {
    const subscription = new BufferedSubscription(this.#bufferSize, (ended) => {
      signal?.removeEventListener('abort', onAbort);
      const set = this.#byTopic.get(topic);
      if (!set?.delete(ended) || set.size > 0) return;
      this.#byTopic.delete(topic);
      this.#onEmpty(topic);
    });
    const onAbort = () => subscription.end();
    if (signal?.aborted) {
      subscription.end();
      return { subscription, first: false };
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    let set = this.#byTopic.get(topic);
    const first = set === undefined;
    if (!set) {
      set = new Set();
      this.#byTopic.set(topic, set);
    }
    set.add(subscription);
    return { subscription, first };
  }

  deliver(topic: string, event: TopicEvent): void {
    const set = this.#byTopic.get(topic);
    if (!set) return;
    // A copy: a subscriber may end (and leave the set) while it is being delivered to.
    for (const subscription of [...set]) subscription.push(event);
  }

  endAll(): void {
    for (const set of [...this.#byTopic.values()]) {
      for (const subscription of [...set]) subscription.end();
    }
  }
}

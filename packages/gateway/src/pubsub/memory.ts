/**
 * The embedded, in-process PubSub: a Map from topic to its live subscriptions. Publishing is a
 * synchronous hand-off into each subscription's buffer, so a slow subscriber never slows the
 * job engine or the other subscribers down.
 */
import type { JobEvent, PubSub } from './pubsub.ts';

export interface MemoryPubSubOptions {
  /**
   * Events kept per subscriber that has not read them yet. Past it the OLDEST are dropped: each
   * event carries the whole job, so the newest one alone is enough to be up to date.
   */
  bufferSize?: number | undefined;
}

const DEFAULT_BUFFER_SIZE = 256;

class Subscription implements AsyncIterator<JobEvent>, AsyncIterable<JobEvent> {
  private readonly buffer: JobEvent[] = [];
  private waiting: ((result: IteratorResult<JobEvent>) => void) | null = null;
  private ended = false;
  private readonly bufferSize: number;
  private readonly onEnd: (subscription: Subscription) => void;

  constructor(bufferSize: number, onEnd: (subscription: Subscription) => void) {
    this.bufferSize = bufferSize;
    this.onEnd = onEnd;
  }

  push(event: JobEvent): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
      return;
    }
    if (this.buffer.length >= this.bufferSize) this.buffer.shift();
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

  next(): Promise<IteratorResult<JobEvent>> {
    const event = this.buffer.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<JobEvent>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<JobEvent> {
    return this;
  }
}

export function createMemoryPubSub(options: MemoryPubSubOptions = {}): PubSub {
  const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
  const subscriptions = new Map<string, Set<Subscription>>();

  return {
    async publish(topic, event) {
      const subscribers = subscriptions.get(topic);
      if (!subscribers) return;
      // A copy: a subscriber may end (and leave the set) while it is being delivered to.
      for (const subscriber of [...subscribers]) subscriber.push(event);
    },

    subscribe(topic, signal) {
      // Registered now, not at the first next(): whatever is published after subscribe()
      // returns is delivered, so "read the current state, then follow changes" loses nothing.
      const subscription = new Subscription(bufferSize, (ended) => {
        signal?.removeEventListener('abort', onAbort);
        const set = subscriptions.get(topic);
        set?.delete(ended);
        if (set?.size === 0) subscriptions.delete(topic);
      });
      const onAbort = () => subscription.end();
      if (signal?.aborted) {
        subscription.end();
        return subscription;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      let set = subscriptions.get(topic);
      if (!set) {
        set = new Set();
        subscriptions.set(topic, set);
      }
      set.add(subscription);
      return subscription;
    },

    async close() {
      for (const set of [...subscriptions.values()]) {
        for (const subscription of [...set]) subscription.end();
      }
      subscriptions.clear();
    },
  };
}

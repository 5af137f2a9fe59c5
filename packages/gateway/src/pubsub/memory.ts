/**
 * The embedded, in-process PubSub: each topic's local subscriptions (subscription.ts), and a
 * publish that hands the event to each of them synchronously. A subscription is live as soon as
 * it is registered, and nothing is ever lost on the way, so it never yields a gap.
 */
import type { PubSub } from './pubsub.ts';
import { DEFAULT_BUFFER_SIZE, TopicSubscribers } from './subscription.ts';

export interface MemoryPubSubOptions {
  /** Events kept per subscriber that has not read them yet (the oldest go first). */
  bufferSize?: number | undefined;
}

export function createMemoryPubSub(options: MemoryPubSubOptions = {}): PubSub {
  const subscribers = new TopicSubscribers(options.bufferSize ?? DEFAULT_BUFFER_SIZE);
  return {
    async publish(topic, event) {
      subscribers.deliver(topic, event);
    },
    async subscribe(topic, signal) {
      return subscribers.join(topic, signal).subscription;
    },
    async close() {
      subscribers.endAll();
    },
  };
}

/**
 * PubSub between gateway instances over Redis (scale-out). A topic is one channel of the
 * instance's RedisChannels (redis-channels.ts: one subscriber connection), listened to while the
 * topic has local subscriptions: N local subscriptions of a topic are one SUBSCRIBE, and each
 * message is decoded once for all of them. When the channel had a gap (the connection was down,
 * messages published meanwhile are lost), every subscription of the topic yields a GapEvent.
 */
import type { JobRecord } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { JobEvent, PubSub } from './pubsub.ts';
import type { RedisChannels } from './redis-channels.ts';
import { DEFAULT_BUFFER_SIZE, TopicSubscribers } from './subscription.ts';

export interface RedisPubSubOptions {
  /** The instance's channels; closing them is their owner's business, not close()'s. */
  channels: RedisChannels;
  /** Events kept per subscriber that has not read them yet (the oldest go first). */
  bufferSize?: number | undefined;
  logger?: Logger | undefined;
}

/** The fields of a job that are Dates (JSON carries them as ISO strings). */
type DateField = {
  [K in keyof JobRecord]-?: Date extends JobRecord[K] ? K : never;
}[keyof JobRecord];

/** Every Date field of JobRecord, checked by the compiler: a new one must be added here. */
const DATE_FIELDS = Object.keys({
  createdAt: true,
  updatedAt: true,
  startedAt: true,
  completedAt: true,
  imagesExpiredAt: true,
} satisfies Record<DateField, true>);

export function encodeJobEvent(event: JobEvent): string {
  return JSON.stringify(event);
}

/** The event exactly as published: its Dates are Dates again. */
export function decodeJobEvent(payload: string): JobEvent {
  const { job } = JSON.parse(payload) as { job: Record<string, unknown> };
  for (const field of DATE_FIELDS) {
    const value = job[field];
    if (typeof value === 'string') job[field] = new Date(value);
  }
  return { job: job as unknown as JobRecord };
}

const channelOf = (topic: string) => `events:${topic}`;

export function createRedisPubSub(options: RedisPubSubOptions): PubSub {
  const { channels, logger } = options;
  /** Each topic with local subscriptions: its channel listener, resolving to its stop. */
  const listening = new Map<string, Promise<() => void>>();
  const subscribers = new TopicSubscribers(options.bufferSize ?? DEFAULT_BUFFER_SIZE, (topic) => {
    const stop = listening.get(topic);
    listening.delete(topic);
    stop?.then(
      (unlisten) => unlisten(),
      () => {},
    );
  });
  /** The job writer publishes one event to three topics: it is encoded once. */
  const encoded = new WeakMap<JobEvent, string>();

  const listen = (topic: string) =>
    channels.listen(channelOf(topic), {
      message(payload) {
        let event: JobEvent;
        try {
          event = decodeJobEvent(payload);
        } catch (error) {
          logger?.warn({ topic, err: error }, 'dropped a message that is not a job event');
          return;
        }
        subscribers.deliver(topic, event);
      },
      gap(since) {
        subscribers.deliver(topic, { gap: true, since });
      },
    });

  return {
    async publish(topic, event) {
      let payload = encoded.get(event);
      if (payload === undefined) {
        payload = encodeJobEvent(event);
        encoded.set(event, payload);
      }
      await channels.publish(channelOf(topic), payload);
    },

    async subscribe(topic, signal) {
      const { subscription, first } = subscribers.join(topic, signal);
      if (first) listening.set(topic, listen(topic));
      try {
        await listening.get(topic);
      } catch (error) {
        subscription.end();
        throw error;
      }
      return subscription;
    },

    async close() {
      subscribers.endAll();
    },
  };
}

/**
 * Named channels over ONE Redis subscriber connection per instance, shared by the pub/sub
 * adapter (redis.ts) and anything else that needs a word between instances (dispatch nudges).
 *
 * - Reference-counted: a channel's first listener SUBSCRIBEs, its last one UNSUBSCRIBEs.
 * - `listen` resolves once the listener is live: when Redis has acknowledged the SUBSCRIBE,
 *   or at once while the connection is down, the listener then getting a gap when it is back.
 * - Gaps: Redis keeps nothing for a subscriber that is away, so a message published while the
 *   connection is down is lost. After a reconnect every channel is subscribed again and, once
 *   Redis has acknowledged that, each listener that may have missed messages gets `gap(since)`.
 * - A heartbeat PINGs the subscriber connection; a PING still unanswered at the next beat is
 *   taken as a dead connection and forces a reconnect, so messages cannot go missing unnoticed
 *   on a connection that died silently. Answered PINGs date the gaps: nothing published before
 *   the last answered PING was sent can have been missed.
 */
import type { Logger } from '../domain/logger.ts';
import { duplicateRedis, pingRedis, type Redis } from '../redis.ts';

export interface ChannelListener {
  message(payload: string): void;
  /** Messages published at or after `since` (this process's clock) may have been missed. */
  gap(since: Date): void;
}

export interface RedisChannels {
  /** Resolves once live (see above) with the function that stops listening. */
  listen(channel: string, listener: ChannelListener): Promise<() => void>;
  /** Resolves with the number of subscribers (connections, not listeners) that received it. */
  publish(channel: string, payload: string): Promise<number>;
  /** True when both the command and the subscriber connection answer (for /readyz). */
  ping(): Promise<boolean>;
  /** Closes the subscriber connection (the command connection is its owner's to close). */
  close(): Promise<void>;
}

export interface RedisChannelsOptions {
  /** The command connection: publishes go through it, the subscriber is a duplicate of it. */
  client: Redis;
  /** Starts every channel name, so that deployments (and tests) sharing a Redis stay apart. */
  keyPrefix: string;
  logger?: Logger | undefined;
  /** Default 5 s. */
  heartbeatMs?: number | undefined;
}

const DEFAULT_HEARTBEAT_MS = 5_000;

interface Channel {
  /** Listeners whose listen() has resolved. */
  readonly listeners: Set<ChannelListener>;
  /** Listeners waiting for the SUBSCRIBE in flight, with their listen()'s resolve. */
  readonly waiting: Map<ChannelListener, () => void>;
  /** Subscribed, acknowledged, on the current connection. */
  live: boolean;
}

export async function openRedisChannels(options: RedisChannelsOptions): Promise<RedisChannels> {
  const { client, keyPrefix } = options;
  const logger = options.logger?.child({ component: 'redis', role: 'subscriber' });
  const subscriber = await duplicateRedis(
    client,
    // This module subscribes again itself after a reconnect, and must know when Redis has
    // acknowledged it. ioredis re-sending old commands could UNSUBSCRIBE a channel in use.
    { autoResubscribe: false, autoResendUnfulfilledCommands: false },
    { logger: options.logger, role: 'subscriber' },
  );
  const channels = new Map<string, Channel>();
  /** Bumped when the connection closes: replies from an older connection are stale. */
  let connection = 0;
  /** Sending time of the latest PING or SUBSCRIBE that Redis answered. */
  let lastLiveAt = Date.now();
  /** While channels may have missed messages: since when. */
  let gapSince: number | null = null;
  let closed = false;

  const connected = () => subscriber.status === 'ready';

  /** A failed command or an unanswered PING: start over on a new connection. */
  const reconnect = (at: number) => {
    if (at === connection && connected()) subscriber.disconnect(true);
  };

  const goLive = (channel: Channel, since: number | null) => {
    channel.live = true;
    if (since !== null) for (const listener of channel.listeners) listener.gap(new Date(since));
    for (const [listener, resolve] of channel.waiting) {
      channel.listeners.add(listener);
      resolve();
    }
    channel.waiting.clear();
  };

  /** SUBSCRIBEs `names`; once acknowledged, each still current channel is live. */
  const subscribe = (names: string[], since: number | null) => {
    const at = connection;
    const sentAt = Date.now();
    const batch = names.map((name) => [name, channels.get(name) as Channel] as const);
    subscriber.subscribe(...names).then(
      () => {
        if (at !== connection) return;
        lastLiveAt = sentAt;
        if (since !== null) gapSince = null;
        for (const [name, channel] of batch) {
          if (channels.get(name) === channel) goLive(channel, since);
        }
      },
      () => reconnect(at),
    );
  };

  subscriber.on('message', (name: string, payload: string) => {
    const channel = channels.get(name);
    if (!channel) return;
    for (const listener of channel.listeners) listener.message(payload);
  });

  let pingSentAt: number | null = null;

  subscriber.on('close', () => {
    connection++;
    pingSentAt = null;
    gapSince ??= lastLiveAt;
    for (const channel of channels.values()) {
      channel.live = false;
      // Their SUBSCRIBE may never be answered now: they are live "with a gap to follow".
      for (const [listener, resolve] of channel.waiting) {
        channel.listeners.add(listener);
        resolve();
      }
      channel.waiting.clear();
    }
  });

  subscriber.on('ready', () => {
    if (channels.size > 0) subscribe([...channels.keys()], gapSince);
    else gapSince = null;
  });

  const heartbeat = setInterval(() => {
    if (!connected()) return;
    const at = connection;
    if (pingSentAt !== null) {
      logger?.warn({}, 'Redis subscriber connection did not answer a PING; reconnecting');
      pingSentAt = null;
      reconnect(at);
      return;
    }
    const sentAt = Date.now();
    pingSentAt = sentAt;
    subscriber.ping().then(
      () => {
        if (at !== connection) return;
        pingSentAt = null;
        lastLiveAt = sentAt;
      },
      () => reconnect(at),
    );
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();

  const unlisten = (name: string, listener: ChannelListener) => {
    const channel = channels.get(name);
    if (!channel) return;
    // Called only after listen() resolved, so the listener is no longer waiting.
    channel.listeners.delete(listener);
    if (channel.listeners.size > 0 || channel.waiting.size > 0) return;
    channels.delete(name);
    // If this fails the connection is going: a new one subscribes only the channels in use.
    if (connected() && !closed) subscriber.unsubscribe(name).catch(() => {});
  };

  return {
    async listen(channelName, listener) {
      if (closed) throw new Error('Redis channels are closed');
      const name = keyPrefix + channelName;
      let channel = channels.get(name);
      const stop = () => unlisten(name, listener);
      if (channel?.live || (channel && !connected())) {
        channel.listeners.add(listener);
        return stop;
      }
      const created = !channel;
      channel ??= { listeners: new Set(), waiting: new Map(), live: false };
      channels.set(name, channel);
      if (!connected()) {
        // Subscribed (with a gap) as soon as the connection is back.
        channel.listeners.add(listener);
        return stop;
      }
      const live = new Promise<void>((resolve) => channel.waiting.set(listener, resolve));
      if (created) subscribe([name], null);
      await live;
      return stop;
    },

    publish: (channelName, payload) => client.publish(keyPrefix + channelName, payload),

    async ping() {
      const [commands, subscriptions] = await Promise.all([
        pingRedis(client),
        connected() ? pingRedis(subscriber) : false,
      ]);
      return commands && subscriptions;
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const channel of channels.values()) {
        for (const resolve of channel.waiting.values()) resolve();
      }
      channels.clear();
      subscriber.disconnect();
    },
  };
}

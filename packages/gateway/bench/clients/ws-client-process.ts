/**
 * A load client in its own process: many graphql-ws subscribers, one WebSocket each, speaking
 * the graphql-transport-ws protocol directly over a lean WebSocket client (lean-websocket.ts),
 * so that receiving costs as little as possible: a delivery is timestamped when its bytes
 * arrive and parsed only after the round. The bench spreads the subscribers of a run over
 * several of these processes.
 */
import { serve } from '../lib/rpc.ts';
import { LeanWebSocket } from './lean-websocket.ts';

interface Subscriber {
  socket: LeanWebSocket;
  acked: boolean;
  subscribed: boolean;
  /** Messages seen before recording began (the current state, …), parsed. */
  states: string[];
  completed: boolean;
  error: string | null;
  closed: boolean;
  onClosed: (() => void) | null;
  /** Arrival of the round's delivery (wall clock ms), NaN until it comes. */
  roundAt: number;
  roundData: Buffer | null;
}

export interface ConnectParams {
  url: string;
  count: number;
  /** connection_init payload. */
  connectionParams: Record<string, unknown>;
  /** Handshakes in flight at once. */
  concurrency?: number;
}

export interface SubscribeParams {
  query: string;
  /** One variables object per group of `perVariables` consecutive sockets. */
  variables: Record<string, unknown>[];
  perVariables: number;
}

export interface RoundResult {
  /** Arrival times (wall clock ms); NaN for a subscriber that got nothing in time. */
  times: Float64Array;
  received: number;
  /** Deliveries whose payload carried the expected `updatedAt`-bearing job in PROCESSING. */
  valid: number;
  /** Distinct payloads (the message without its id) in this process: 1 when all are the same bytes. */
  distinctPayloads: number;
  payloadBytes: number;
}

export interface WatchResult {
  completed: number;
  errors: string[];
  /** Per subscriber: the statuses received, in order. */
  statuses: string[][];
}

const subscribers: Subscriber[] = [];
let recording = false;
let roundPending = 0;
let onRoundDone: (() => void) | null = null;
let onProgress: (() => void) | null = null;

function statusOf(text: string): string {
  try {
    const message = JSON.parse(text) as {
      type: string;
      payload?: { data?: Record<string, { status?: string } | null>; errors?: unknown };
    };
    if (message.type !== 'next') return message.type;
    const job = Object.values(message.payload?.data ?? {})[0];
    return job?.status ?? `errors: ${JSON.stringify(message.payload?.errors)}`;
  } catch {
    return 'unparsable';
  }
}

function open(params: ConnectParams): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const subscriber: Subscriber = {
      socket: null as unknown as LeanWebSocket,
      acked: false,
      subscribed: false,
      states: [],
      completed: false,
      error: null,
      closed: false,
      onClosed: null,
      roundAt: Number.NaN,
      roundData: null,
    };
    subscriber.socket = new LeanWebSocket(params.url, 'graphql-transport-ws', {
      open() {
        subscriber.socket.send(
          JSON.stringify({ type: 'connection_init', payload: params.connectionParams }),
        );
      },
      message(data, at) {
        if (recording) {
          if (Number.isNaN(subscriber.roundAt)) {
            subscriber.roundAt = at;
            subscriber.roundData = data;
            if (--roundPending === 0) onRoundDone?.();
          }
          return;
        }
        if (!subscriber.acked) {
          subscriber.acked = true;
          resolve(subscriber);
          return;
        }
        const text = data.toString();
        const type = (JSON.parse(text) as { type: string }).type;
        if (type === 'complete') subscriber.completed = true;
        else if (type === 'error') subscriber.error = text;
        subscriber.states.push(type === 'next' ? statusOf(text) : type);
        onProgress?.();
      },
      error(error) {
        subscriber.error = String(error);
        reject(error);
      },
      close(code, reason) {
        subscriber.closed = true;
        subscriber.onClosed?.();
        if (!subscriber.acked) reject(new Error(`closed ${code} ${reason}`));
        else if (!subscriber.completed) subscriber.error ??= `closed ${code} ${reason}`;
        onProgress?.();
      },
    });
  });
}

/** Resolves when `done()` holds, checked on every message, or after `timeoutMs`. */
function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      onProgress = null;
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    onProgress = () => {
      if (done()) finish(true);
    };
    onProgress();
  });
}

serve(
  {
    async connect(params: ConnectParams): Promise<{ connected: number }> {
      const concurrency = params.concurrency ?? 64;
      let started = 0;
      const worker = async () => {
        while (started < params.count) {
          started++;
          subscribers.push(await open(params));
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, params.count) }, worker));
      return { connected: subscribers.length };
    },

    /**
     * Sends a subscribe on every socket that has none yet; resolves once each has its first
     * answer (its current state).
     */
    async subscribe(params: SubscribeParams): Promise<{ ready: number; failed: string[] }> {
      subscribers.forEach((subscriber, index) => {
        if (subscriber.subscribed) return;
        subscriber.subscribed = true;
        const variables = params.variables[Math.floor(index / params.perVariables)];
        subscriber.socket.send(
          // A random id per operation, as graphql-ws clients make them.
          JSON.stringify({
            id: crypto.randomUUID(),
            type: 'subscribe',
            payload: { query: params.query, variables },
          }),
        );
      });
      await waitUntil(() => subscribers.every((s) => s.states.length > 0 || s.error), 120_000);
      const failed = subscribers
        .filter((s) => s.error || s.states.length === 0)
        .map((s) => s.error ?? 'no answer');
      return { ready: subscribers.length - failed.length, failed: failed.slice(0, 3) };
    },

    /** From now on, the next message of each subscriber is the round's delivery. */
    arm(): null {
      for (const subscriber of subscribers) {
        subscriber.roundAt = Number.NaN;
        subscriber.roundData = null;
      }
      roundPending = subscribers.length;
      recording = true;
      return null;
    },

    /** Waits for the round's deliveries (or `timeoutMs`), then checks them. */
    async collect({
      timeoutMs,
      expectStatus,
    }: {
      timeoutMs: number;
      expectStatus: string;
    }): Promise<RoundResult> {
      if (roundPending > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          onRoundDone = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      onRoundDone = null;
      recording = false;
      const times = new Float64Array(subscribers.length);
      const distinct = new Set<string>();
      let received = 0;
      let valid = 0;
      let payloadBytes = 0;
      subscribers.forEach((subscriber, index) => {
        times[index] = subscriber.roundAt;
        if (!subscriber.roundData) return;
        received++;
        const text = subscriber.roundData.toString();
        payloadBytes = text.length;
        // The same bytes for everyone, but for each operation's own id.
        distinct.add(text.slice(text.indexOf('"payload":')));
        if (statusOf(text) === expectStatus) valid++;
      });
      return { times, received, valid, distinctPayloads: distinct.size, payloadBytes };
    },

    /** Waits until every subscription completed (or failed), for `timeoutMs` at most. */
    async watch({ timeoutMs }: { timeoutMs: number }): Promise<WatchResult> {
      await waitUntil(() => subscribers.every((s) => s.completed || s.error), timeoutMs);
      return {
        completed: subscribers.filter((s) => s.completed).length,
        errors: subscribers.flatMap((s) => (s.error ? [s.error] : [])).slice(0, 3),
        statuses: subscribers.map((s) => s.states.filter((state) => state !== 'complete')),
      };
    },

    async close(): Promise<null> {
      await Promise.all(
        subscribers.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.closed) return resolve();
              const timer = setTimeout(() => {
                s.socket.terminate();
                resolve();
              }, 5_000);
              s.onClosed = () => {
                clearTimeout(timer);
                resolve();
              };
              s.socket.close(1000);
            }),
        ),
      );
      subscribers.length = 0;
      return null;
    },
  },
  () => {
    for (const s of subscribers) s.socket.terminate();
  },
);

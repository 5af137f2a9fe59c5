/**
 * The subscriptions running over HTTP (SSE), each as a live connection of its API key that the
 * revocation sweep (auth/revocation-sweep.ts) can end. Ending one sends a last result with
 * UNAUTHENTICATED, so the client knows why, then completes the stream. graphql-ws subscriptions
 * are not counted here: their whole socket is closed instead (ws-server.ts).
 */
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LiveConnection } from '../auth/revocation-sweep.ts';
import { GatewayError } from '../errors.ts';
import type { GatewayContext } from '../schema/builder.ts';
import type { WebSocketInitialContext } from './yoga.ts';

type Context = GatewayContext & Partial<WebSocketInitialContext>;

export interface SseStreams {
  plugin: Plugin<Context>;
  /** The SSE subscriptions running now. */
  connections(): Iterable<LiveConnection>;
}

const REVOKED: ExecutionResult = {
  errors: [new GatewayError('UNAUTHENTICATED', 'This API key was revoked')],
};

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * `source`, until `ended` resolves: then REVOKED once and done. A plain iterator object, not an
 * async generator, so that `return()` reaches the source at once even while a `next()` waits.
 */
function endable(
  source: AsyncIterable<ExecutionResult>,
  ended: Promise<void>,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  const end = ended.then(() => 'ended' as const);
  const stopSource = async (): Promise<IteratorReturnResult<undefined>> => {
    finished = true;
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    async next() {
      if (finished) return { done: true, value: undefined };
      const next = await Promise.race([iterator.next(), end]);
      if (next !== 'ended') return next;
      await stopSource();
      return { done: false, value: REVOKED };
    },
    return: stopSource,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function createSseStreams(): SseStreams {
  const live = new Set<LiveConnection>();
  const plugin: Plugin<Context> = {
    onSubscribe({ context: { principal, webSocket } }) {
      if (webSocket || !principal) return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return undefined;
          const { promise: ended, resolve: end } = Promise.withResolvers<void>();
          const connection: LiveConnection = { keyId: principal.key.id, end };
          live.add(connection);
          setResult(endable(result, ended));
          return { onEnd: () => live.delete(connection) };
        },
      };
    },
  };
  return { plugin, connections: () => live };
}

/**
 * The one graphql-ws connection a client (and every client derived from it) shares, opened on
 * the first watch and closed a while after the last one ends. A dropped socket is reopened
 * with backoff for as long as anything is watched; a socket the gateway closed because it
 * refused the key (4401, 4403) is not: the same key would be refused again.
 */
import { errorCodeOfClose } from '@zimage/contract';
import { createClient, type Client as SocketClient } from 'graphql-ws';
import { backoffMs, wait } from './wait.ts';

export interface SocketOptions {
  url: string;
  authorization: string;
  /** A WebSocket constructor; globalThis.WebSocket when unset. */
  webSocketImpl: unknown;
}

function isRefusal(event: unknown): boolean {
  const code = (event as { code?: unknown } | null)?.code;
  return typeof code === 'number' && errorCodeOfClose(code) !== undefined;
}

export function createSocket(options: SocketOptions): SocketClient {
  const webSocketImpl = options.webSocketImpl ?? globalThis.WebSocket;
  if (!webSocketImpl) {
    throw new TypeError(
      'No WebSocket implementation: pass webSocketImpl (e.g. the ws package) on Node 20',
    );
  }
  return createClient({
    url: options.url,
    webSocketImpl,
    connectionParams: { authorization: options.authorization },
    lazy: true,
    // Watches come and go (a bot follows one job after another): keep the socket a little.
    lazyCloseTimeout: 30_000,
    keepAlive: 20_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: (retries) => wait(backoffMs(retries, 250, 10_000)),
    // Anything but a refused key is worth another try, including a socket that failed to open
    // (graphql-ws gives up on those by default).
    shouldRetry: (event) => !isRefusal(event),
  });
}

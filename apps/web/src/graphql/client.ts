/**
 * The urql client: graphcache in front, then HTTP for queries and mutations and graphql-ws for
 * subscriptions, both on the gateway's own origin (`/graphql`; the dev server proxies it).
 */
import { createClient as createWsClient } from 'graphql-ws';
import {
  type Client,
  type CombinedError,
  createClient,
  type Exchange,
  fetchExchange,
  makeOperation,
  mapExchange,
  type Operation,
  subscriptionExchange,
} from 'urql';
import { dashboardCache } from './cache.ts';
import { type ConnectionStatus, createConnectionStatus } from './connection.ts';
import { errorCode } from './errors.ts';

export const GRAPHQL_PATH = '/graphql';

/** Close codes the gateway uses for a missing, wrong or revoked key. */
const AUTH_CLOSE_CODES = new Set([4401, 4403]);

export interface DashboardClient {
  client: Client;
  /** Fetches every query on screen again (after a reconnect, events may have been missed). */
  refetchActiveQueries(): void;
}

/**
 * The client without its transport, so that tests can put an in-memory gateway behind the
 * same cache and error handling the browser uses.
 */
export function createDashboardClient(options: {
  transport: Exchange[];
  onUnauthenticated(): void;
  fetchOptions?: RequestInit;
}): DashboardClient {
  const activeQueries = new Map<number, Operation>();
  const trackActiveQueries = mapExchange({
    onOperation(operation) {
      if (operation.kind === 'query') activeQueries.set(operation.key, operation);
      else if (operation.kind === 'teardown') activeQueries.delete(operation.key);
    },
  });
  const signOutOnRejectedKey = mapExchange({
    onError(error: CombinedError) {
      if (errorCode(error) === 'UNAUTHENTICATED' || error.response?.status === 401) {
        options.onUnauthenticated();
      }
    },
  });

  const client = createClient({
    url: GRAPHQL_PATH,
    // JSON POSTs pass the gateway's CSRF prevention; GETs would need an extra header.
    preferGetMethod: false,
    ...(options.fetchOptions ? { fetchOptions: options.fetchOptions } : {}),
    exchanges: [trackActiveQueries, signOutOnRejectedKey, dashboardCache(), ...options.transport],
  });

  return {
    client,
    refetchActiveQueries() {
      for (const operation of activeQueries.values()) {
        client.reexecuteOperation(
          makeOperation(operation.kind, operation, {
            ...operation.context,
            requestPolicy: 'network-only',
          }),
        );
      }
    },
  };
}

export interface GatewayConnection extends DashboardClient {
  connection: ConnectionStatus;
  dispose(): void;
}

const webSocketUrl = () => {
  const url = new URL(GRAPHQL_PATH, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
};

/** Backoff of 0.5, 1, 2, 4, 8 s, then every 10 s, with jitter so tabs don't reconnect in step. */
const retryWait = (retries: number) =>
  new Promise<void>((resolve) =>
    setTimeout(resolve, Math.min(500 * 2 ** retries, 10_000) + Math.random() * 500),
  );

const isCloseEvent = (value: unknown): value is { code: number } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { code?: unknown }).code === 'number';

export function connectToGateway(apiKey: string, onUnauthenticated: () => void): GatewayConnection {
  const authorization = `Bearer ${apiKey}`;
  const connection = createConnectionStatus();
  let dashboard: DashboardClient | undefined;

  const ws = createWsClient({
    url: webSocketUrl(),
    connectionParams: { authorization },
    // The dashboard always holds its `myJobs` subscription, so the socket stays open anyway.
    lazy: true,
    keepAlive: 15_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait,
    // Anything but a refused key is worth another try, including a socket that failed to open
    // (graphql-ws gives up on those by default, and the dashboard would stay stale).
    shouldRetry: (event) => !(isCloseEvent(event) && AUTH_CLOSE_CODES.has(event.code)),
    on: {
      connecting: (isRetry) => connection.set(isRetry ? 'reconnecting' : 'connecting'),
      connected: (_socket, _payload, wasRetry) => {
        connection.set('online');
        if (wasRetry) dashboard?.refetchActiveQueries();
      },
      closed: (event) => {
        if (isCloseEvent(event) && AUTH_CLOSE_CODES.has(event.code)) {
          connection.set('rejected');
          onUnauthenticated();
        } else if (connection.get() === 'online') {
          connection.set('reconnecting');
        }
      },
    },
  });

  dashboard = createDashboardClient({
    onUnauthenticated,
    fetchOptions: { headers: { authorization } },
    transport: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });

  return { ...dashboard, connection, dispose: () => void ws.dispose() };
}

/**
 * The urql client: graphcache in front, then HTTP for queries and mutations and graphql-ws for
 * subscriptions, both on the gateway's own origin (`/graphql`; the dev server proxies it).
 */
import { errorCodeOfClose } from '@zimage/contract';
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
import { newestJobsExchange } from './newest-jobs.ts';

export const GRAPHQL_PATH = '/graphql';

const CURSOR_VARIABLES = ['after', 'before'] as const;

/** A query with a cursor variable: one page of a list. */
const isPage = (operation: Operation) =>
  CURSOR_VARIABLES.some((name) => Object.hasOwn(operation.variables ?? {}, name));

/** The list a page belongs to: its query and every variable but the cursor. */
const listOf = (operation: Operation) => {
  const {
    after: _after,
    before: _before,
    ...rest
  } = (operation.variables ?? {}) as Record<string, unknown>;
  // urql keys every document by a hash of its text.
  return JSON.stringify([(operation.query as { __key?: number }).__key, rest]);
};

/**
 * An exchange that shows `onOperation` every operation on its way, teardowns included (urql's
 * mapExchange leaves those out). A wonka source is a function of a sink; a Push signal (tag 1)
 * carries its value at index 0.
 */
const tapOperations =
  (onOperation: (operation: Operation) => void): Exchange =>
  ({ forward }) =>
  (operations$) =>
    forward((sink) =>
      operations$((signal) => {
        if (typeof signal === 'object' && signal.tag === 1) onOperation(signal[0] as Operation);
        sink(signal);
      }),
    );

export interface DashboardClient {
  client: Client;
  /**
   * Fetches every query on screen again, and every earlier page of a list on screen (after a
   * reconnect, events may have been missed).
   */
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
  // Earlier pages of a paginated list: infinite scroll moves the cursor on, which tears the
  // previous page's query down, but the cache keeps merging that page into the list on screen.
  const earlierPages = new Map<number, Operation>();
  const trackActiveQueries = tapOperations((operation) => {
    if (operation.kind === 'query') {
      activeQueries.set(operation.key, operation);
      earlierPages.delete(operation.key);
    } else if (operation.kind === 'teardown') {
      const query = activeQueries.get(operation.key);
      activeQueries.delete(operation.key);
      if (query && isPage(query)) earlierPages.set(operation.key, query);
    }
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
    exchanges: [
      trackActiveQueries,
      signOutOnRejectedKey,
      dashboardCache(),
      // Below the cache: what it writes is never older than what it holds.
      newestJobsExchange(),
      ...options.transport,
    ],
  });

  return {
    client,
    refetchActiveQueries() {
      const listsOnScreen = new Set<string>();
      for (const operation of activeQueries.values()) {
        listsOnScreen.add(listOf(operation));
        client.reexecuteOperation(
          makeOperation(operation.kind, operation, {
            ...operation.context,
            requestPolicy: 'network-only',
          }),
        );
      }
      // Each earlier page again by its own cursor, so the list keeps its rows and scroll place;
      // normalization puts the fresh jobs into every row that shows them.
      for (const page of earlierPages.values()) {
        if (!listsOnScreen.has(listOf(page))) continue;
        void client
          .query(page.query, page.variables, { ...page.context, requestPolicy: 'network-only' })
          .toPromise();
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

/** The gateway closed the socket over a missing, wrong or revoked key (the contract's close codes). */
const refusedKey = (event: unknown) =>
  isCloseEvent(event) && errorCodeOfClose(event.code) !== undefined;

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
    shouldRetry: (event) => !refusedKey(event),
    on: {
      connecting: (isRetry) => connection.set(isRetry ? 'reconnecting' : 'connecting'),
      connected: (_socket, _payload, wasRetry) => {
        connection.set('online');
        if (wasRetry) dashboard?.refetchActiveQueries();
      },
      closed: (event) => {
        if (refusedKey(event)) {
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

/**
 * The gateway's HTTP server: one port for GraphQL (Yoga over HTTP and SSE, graphql-ws on the
 * same path), stored images, Pixazo webhooks, health, metrics and the dashboard.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { KeyCache } from './auth/authenticate.ts';
import { LastUseRecorder } from './auth/last-use.ts';
import { startRevocationSweep } from './auth/revocation-sweep.ts';
import type { Logger } from './domain/logger.ts';
import { createSseStreams } from './graphql/sse-streams.ts';
import { attachGraphqlWs } from './graphql/ws-server.ts';
import { createGatewayYoga, type GatewayYoga, GRAPHQL_PATH } from './graphql/yoga.ts';
import { createDashboardRoute } from './http/dashboard-route.ts';
import { createGraphiqlRoute } from './http/graphiql-route.ts';
import { createReadyz, healthz } from './http/health-routes.ts';
import { createImagesRoute, IMAGES_PREFIX } from './http/images-route.ts';
import { createMetricsRoute } from './http/metrics-route.ts';
import { sendText } from './http/respond.ts';
import { createWebhookRoute, WEBHOOK_PREFIX } from './http/webhook-route.ts';
import type { JobEngine } from './jobs/engine.ts';
import type { ImageStore } from './jobs/image-store.ts';
import type { RateLimiter } from './limits/rate-limiter.ts';
import { loggablePath } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { PubSub } from './pubsub/pubsub.ts';
import type { RedisChannels } from './pubsub/redis-channels.ts';
import type { Store } from './store/store.ts';

/** The dashboard build of this repository (apps/web/dist). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(
  new URL('../../../apps/web/dist', import.meta.url),
);

/** How long close() lets HTTP requests in flight finish before it ends their connections. */
const CLOSE_GRACE_MS = 5_000;

export interface GatewayServerDeps {
  store: Store;
  engine: JobEngine;
  pubsub: PubSub;
  images: ImageStore;
  rateLimiter: RateLimiter;
  /** With Redis: its connections must answer for /readyz to say ready. */
  redisChannels?: Pick<RedisChannels, 'ping'> | null | undefined;
  metrics: Metrics;
  logger: Logger;
  /** PUBLIC_URL: what image URLs start with; unset, the address the server listens on. */
  publicUrl: string | null;
  corsOrigins: readonly string[];
  /** GRAPHIQL: false, a browser's GET /graphql is only GraphQL's GET transport. Default true. */
  graphiql?: boolean | undefined;
  maxSubscriptionsPerSocket: number;
  /** Default: DEFAULT_DASHBOARD_DIR. */
  dashboardDir?: string | undefined;
  /** graphql-ws ping interval; default 12 s. */
  keepAliveMs?: number | undefined;
  /**
   * Default: keys trusted for 5 s after a lookup. Its lifetime is also how often the
   * connections of revoked keys are looked for and ended.
   */
  keyCache?: KeyCache | undefined;
}

export interface GatewayServer {
  readonly httpServer: ReturnType<typeof createServer>;
  readonly yoga: GatewayYoga;
  /** Resolves with the base URL once listening (port 0 picks a free port). */
  listen(port: number, host: string): Promise<string>;
  /**
   * What image URLs start with: PUBLIC_URL, else the listen address (known once listening;
   * 0.0.0.0 and :: read as localhost). Never taken from a request's Host header.
   */
  readonly publicUrl: string | null;
  /** Readiness turns 503, new requests are refused, the port is released. */
  stopAccepting(): void;
  /** stopAccepting, then WebSockets close with 1001 and HTTP requests get a grace period. */
  close(): Promise<void>;
}

/** A listen address as a browser on this machine can open it: 0.0.0.0 and :: read as localhost. */
function browsableUrl(url: string): string {
  const parsed = new URL(url);
  if (['0.0.0.0', '[::]'].includes(parsed.hostname)) parsed.hostname = 'localhost';
  return parsed.origin;
}

/** Probes and scrapes are frequent and boring: logged at debug level only. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function createGatewayServer(deps: GatewayServerDeps): GatewayServer {
  const { logger, metrics, store } = deps;
  const keyCache = deps.keyCache ?? new KeyCache();
  let shuttingDown = false;
  let publicUrl = deps.publicUrl;

  const sseStreams = createSseStreams();
  const yoga = createGatewayYoga({
    ...deps,
    keyCache,
    lastUse: new LastUseRecorder(store, logger),
    sseStreams,
    publicBaseUrl: () => publicUrl,
  });
  const images = createImagesRoute(deps.images);
  const webhook = createWebhookRoute(deps);
  const readyz = createReadyz({
    store,
    redis: deps.redisChannels ?? null,
    isShuttingDown: () => shuttingDown,
  });
  const metricsRoute = createMetricsRoute(metrics);
  const dashboard = createDashboardRoute(
    deps.dashboardDir ?? DEFAULT_DASHBOARD_DIR,
    () => publicUrl,
  );
  const graphiql = deps.graphiql === false ? null : createGraphiqlRoute(GRAPHQL_PATH);
  metrics.observe({
    queueDepth: () => store.countPendingJobs(),
  });

  const route = (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (pathname === GRAPHQL_PATH) {
      return graphiql?.wantsPage(req) ? graphiql.page(req, res) : yoga(req, res);
    }
    if (graphiql?.ownsPath(pathname)) return graphiql.asset(req, res, pathname);
    if (pathname.startsWith(IMAGES_PREFIX)) return images(req, res, pathname);
    if (pathname.startsWith(WEBHOOK_PREFIX)) return webhook(req, res, pathname);
    if (pathname === '/healthz') return healthz(req, res);
    if (pathname === '/readyz') return readyz(req, res);
    if (pathname === '/metrics') return metricsRoute(req, res);
    return dashboard(req, res, pathname);
  };

  const httpServer = createServer(async (req, res) => {
    const started = performance.now();
    const pathname = URL.parse(req.url ?? '/', 'http://gateway')?.pathname ?? '/';
    res.once('finish', () => {
      const level = QUIET_PATHS.has(pathname) ? 'debug' : 'info';
      logger[level](
        {
          method: req.method,
          path: loggablePath(pathname),
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'http request',
      );
    });
    if (shuttingDown && pathname !== '/healthz' && pathname !== '/readyz') {
      sendText(res, 503, 'Shutting down\n', { connection: 'close', 'retry-after': '5' });
      return;
    }
    try {
      await route(req, res, pathname);
    } catch (error) {
      logger.error({ err: error, path: loggablePath(pathname) }, 'http route failed');
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error\n');
      else res.destroy();
    }
  });

  const graphqlWs = attachGraphqlWs(httpServer, {
    yoga,
    store,
    keyCache,
    rateLimiter: deps.rateLimiter,
    metrics,
    logger,
    maxSubscriptionsPerSocket: deps.maxSubscriptionsPerSocket,
    keepAliveMs: deps.keepAliveMs,
  });
  const revocations = startRevocationSweep({
    store,
    intervalMs: keyCache.ttlMs,
    logger,
    *connections() {
      yield* graphqlWs.connections();
      yield* sseStreams.connections();
    },
  });

  /** Settles once every connection has ended (set by stopAccepting). */
  let drained: Promise<void> = Promise.resolve();
  const stopAccepting = () => {
    if (shuttingDown) return;
    shuttingDown = true;
    drained = new Promise((resolve) => httpServer.close(() => resolve()));
    httpServer.closeIdleConnections();
  };

  return {
    httpServer,
    yoga,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const { address, port: bound } = httpServer.address() as AddressInfo;
          const hostname = address.includes(':') ? `[${address}]` : address;
          const url = `http://${hostname}:${bound}`;
          publicUrl ??= browsableUrl(url);
          resolve(url);
        });
      }),
    get publicUrl() {
      return publicUrl;
    },
    stopAccepting,
    async close() {
      stopAccepting();
      revocations.stop();
      await graphqlWs.close();
      // SSE streams and slow clients would hold the server open: they get a grace period.
      const grace = setTimeout(() => httpServer.closeAllConnections(), CLOSE_GRACE_MS);
      await drained;
      clearTimeout(grace);
    },
  };
}

/**
 * GraphQL over HTTP (POST, GET and SSE subscriptions) with graphql-yoga. graphql-ws
 * (ws-server.ts) executes through the same Yoga instance (`yoga.getEnveloped`), so parsing
 * limits, validation, error codes and masking are the same on every transport.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type YogaInitialContext, type YogaLogger } from 'graphql-yoga';
import type { Logger } from '../domain/logger.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { Metrics } from '../metrics.ts';
import type { GatewayContext } from '../schema/builder.ts';
import { schema } from '../schema/schema.ts';
import { useOperationAdmission } from './admission.ts';
import { type ContextDeps, createContext } from './context.ts';
import { useBadUserInputCodes } from './input-errors.ts';
import { maskError } from './mask-error.ts';
import type { SseStreams } from './sse-streams.ts';

export const GRAPHQL_PATH = '/graphql';

/**
 * A header that browsers send only after a CORS preflight, so a request carrying it (or a JSON
 * body) cannot come from a cross-site form or <img>. Requests with neither are refused.
 */
export const CSRF_HEADER = 'x-graphql-csrf-token';

/** Generous for every real client, tight enough to stop abusive documents early. */
export const GRAPHQL_LIMITS = {
  /** Field nesting; the deepest useful query (jobs → edges → node → images → url) is 5. */
  maxDepth: 10,
  maxAliases: 15,
  /**
   * graphql-armor's cost estimate (objects and scalars, weighted by depth, times a literal
   * `first`); a full page of 100 jobs with every field costs about 14,000.
   */
  maxCost: 50_000,
  /** Lexer tokens of a document; the introspection query of GraphiQL needs about 300. */
  maxTokens: 3000,
  maxDirectives: 20,
  /** Request bodies (and WebSocket messages); a prompt is at most 4,000 characters. */
  maxBodyBytes: 64 * 1024,
} as const;

/** Set by graphql-ws for the operations it runs: the credentials of its connection. */
export interface WebSocketInitialContext {
  webSocket: { authorization: string | undefined };
}

export interface GatewayYogaDeps extends ContextDeps {
  rateLimiter: RateLimiter;
  logger: Logger;
  metrics: Metrics;
  /** CORS_ORIGINS: allowed browser origins (`*` for any); empty for same-origin only. */
  corsOrigins: readonly string[];
  /** Tracks SSE subscriptions, so that those of a revoked key can be ended. */
  sseStreams: SseStreams;
}

function yogaLogger(logger: Logger): YogaLogger {
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      if (first instanceof Error) logger[level]({ err: first }, first.message);
      else logger[level]({ detail: rest.length > 0 ? rest : undefined }, String(first));
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function corsOptions(origins: readonly string[]) {
  if (origins.length === 0) return false;
  return {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'accept', CSRF_HEADER],
    maxAge: 600,
  };
}

/** Counts subscriptions over HTTP (SSE); graphql-ws counts its own. */
function useSseSubscriptionMetrics(metrics: Metrics) {
  return {
    onSubscribe({ context }: { context: Partial<WebSocketInitialContext> }) {
      if (context.webSocket) return undefined;
      return {
        onSubscribeResult({ result }: { result: unknown }) {
          if (typeof result !== 'object' || result === null || !(Symbol.asyncIterator in result)) {
            return undefined;
          }
          metrics.sseSubscriptionOpened();
          return { onEnd: () => metrics.sseSubscriptionClosed() };
        },
      };
    },
  };
}

export function createGatewayYoga(deps: GatewayYogaDeps) {
  return createYoga<Partial<WebSocketInitialContext>, GatewayContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: (initial: YogaInitialContext & Partial<WebSocketInitialContext>) =>
      createContext(
        deps,
        initial.webSocket
          ? initial.webSocket.authorization
          : (initial.request.headers.get('authorization') ?? undefined),
      ),
    // GraphiQL is served beside Yoga, as cacheable static files (http/graphiql-route.ts).
    graphiql: false,
    landingPage: false,
    maskedErrors: { maskError },
    cors: corsOptions(deps.corsOrigins),
    maxRequestBodySize: GRAPHQL_LIMITS.maxBodyBytes,
    logging: yogaLogger(deps.logger),
    plugins: [
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      EnvelopArmorPlugin({
        maxDepth: { n: GRAPHQL_LIMITS.maxDepth },
        maxAliases: { n: GRAPHQL_LIMITS.maxAliases },
        costLimit: { maxCost: GRAPHQL_LIMITS.maxCost },
        maxTokens: { n: GRAPHQL_LIMITS.maxTokens },
        maxDirectives: { n: GRAPHQL_LIMITS.maxDirectives },
      }),
      useBadUserInputCodes(),
      useOperationAdmission(deps.rateLimiter),
      useSseSubscriptionMetrics(deps.metrics),
      deps.sseStreams.plugin,
    ],
  });
}

export type GatewayYoga = ReturnType<typeof createGatewayYoga>;

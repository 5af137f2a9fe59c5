/**
 * graphql-ws on the same HTTP server and path as Yoga. Operations run through Yoga's envelop
 * (same parse limits, validation, codes and masking); subscriptions are shared
 * (shared-subscriptions.ts): every distinct (visibility, document, variables) is executed once
 * per event, whatever its number of subscribers.
 *
 * Authentication happens at connection_init ({"authorization": "Bearer <key>"}): no key or an
 * unknown one closes the socket with 4401, a revoked key or one without the read scope with
 * 4403. Each operation re-checks the key (through the key cache), so a revocation also stops
 * new operations on sockets already open, and the revocation sweep closes the sockets of a
 * revoked key (4403) within the key cache's lifetime (`connections()`).
 */
import type { Server } from 'node:http';
import { CLOSE_CODES } from '@zimage/contract';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  getOperationAST,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { WebSocketServer } from 'ws';
import { hashSecret } from '../auth/api-keys.ts';
import { authenticate, type KeyCache } from '../auth/authenticate.ts';
import type { LiveConnection } from '../auth/revocation-sweep.ts';
import type { Logger } from '../domain/logger.ts';
import { hasScope } from '../domain/principal.ts';
import { GatewayError } from '../errors.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { Metrics } from '../metrics.ts';
import { visibilityKey } from '../schema/access.ts';
import type { GatewayContext } from '../schema/builder.ts';
import { CURRENT_STATE_SUBSCRIPTIONS } from '../schema/job.ts';
import type { Store } from '../store/store.ts';
import { SharedSubscriptions } from '../subscriptions/shared-subscriptions.ts';
import { admitOperation, rootFields } from './admission.ts';
import { asBadUserInput } from './input-errors.ts';
import { maskError } from './mask-error.ts';
import { serveGraphqlWs } from './ws-adapter.ts';
import { type GatewayYoga, GRAPHQL_LIMITS, GRAPHQL_PATH } from './yoga.ts';

export interface GraphqlWsDeps {
  yoga: GatewayYoga;
  store: Store;
  keyCache: KeyCache;
  rateLimiter: RateLimiter;
  metrics: Metrics;
  logger: Logger;
  /** MAX_SUBSCRIPTIONS_PER_SOCKET: operations one connection may run at once. */
  maxSubscriptionsPerSocket: number;
  /** Ping interval; a socket that misses a pong within it is dropped. Default 12 s. */
  keepAliveMs?: number | undefined;
}

export interface GraphqlWsServer {
  /** Every authenticated socket, for the revocation sweep (closing it: 4403). */
  connections(): Iterable<LiveConnection>;
  /** Closes every socket with 1001 (going away) and stops accepting. */
  close(): Promise<void>;
}

/** What a connection keeps besides its socket (ws-adapter.ts): its credentials. */
type ConnectionExtra = {
  authorization?: string | undefined;
  /** The API key of `authorization`, once connection_init accepted it. */
  keyId?: string | undefined;
};

const REVOKED = 'This API key was revoked';

type Enveloped = ReturnType<GatewayYoga['getEnveloped']>;

/** Execution hooks travel in the root value, Yoga's documented way to pair them with graphql-ws. */
interface OperationRoot {
  execute: Enveloped['execute'];
  subscribe: Enveloped['subscribe'];
  /** Subscribers with the same key get the same results. */
  shareKey: string;
  replayLatest: boolean;
}

/** `authorization` in any letter case (GraphiQL sends its Headers tab as `Authorization`). */
function authorizationOf(
  params: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  const entry = Object.entries(params ?? {}).find(
    ([name]) => name.toLowerCase() === 'authorization',
  );
  return typeof entry?.[1] === 'string' ? entry[1] : undefined;
}

/** The key of an accepted connection_init, or the close code and reason of a refused one. */
async function admitConnection(
  deps: GraphqlWsDeps,
  authorization: string | undefined,
): Promise<{ keyId: string } | { code: number; reason: string }> {
  try {
    const principal = await authenticate(deps.store, authorization, deps.keyCache);
    if (principal === null) {
      return {
        code: CLOSE_CODES.UNAUTHENTICATED,
        reason: 'Send {"authorization": "Bearer <api key>"} in connection_init',
      };
    }
    if (!hasScope(principal.key, 'read')) {
      return { code: CLOSE_CODES.FORBIDDEN, reason: 'This API key lacks the read scope' };
    }
    return { keyId: principal.key.id };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const secret = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    const key = secret ? await deps.store.getApiKeyBySecretHash(hashSecret(secret)) : null;
    if (key?.revokedAt) return { code: CLOSE_CODES.FORBIDDEN, reason: REVOKED };
    return { code: CLOSE_CODES.UNAUTHENTICATED, reason: error.message };
  }
}

export function attachGraphqlWs(httpServer: Server, deps: GraphqlWsDeps): GraphqlWsServer {
  const { yoga, logger, metrics } = deps;
  const shared = new SharedSubscriptions<ExecutionResult>();
  const webSockets = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: GRAPHQL_LIMITS.maxBodyBytes,
  });
  metrics.observe({
    webSocketConnections: () => webSockets.clients.size,
    webSocketSubscriptions: () => shared.subscriberCount,
    sharedSubscriptionSources: () => shared.sourceCount,
  });

  /** Errors to send instead of running the operation; unexpected ones are masked and logged. */
  const asOperationErrors = (error: unknown): GraphQLError[] => {
    if (error instanceof GraphQLError) return [asBadUserInput(error)];
    logger.error({ err: error }, 'graphql-ws operation failed');
    return [maskError(error, 'Unexpected error.') as GraphQLError];
  };

  // Yoga's parser cache gives every operation sending the same query text the same document.
  // A document valid once stays valid (the rules read the document and the schema alone), so
  // it is validated once: envelop's validation builds hook objects for every plugin per call.
  const validDocuments = new WeakSet<DocumentNode>();
  /** A number per document, for share keys: shorter than the query text. */
  const documentIds = new WeakMap<DocumentNode, number>();
  let lastDocumentId = 0;
  const documentId = (document: DocumentNode) => {
    let id = documentIds.get(document);
    if (id === undefined) {
      id = ++lastDocumentId;
      documentIds.set(document, id);
    }
    return id;
  };

  const prepare = async (
    extra: ConnectionExtra,
    payload: SubscribePayload,
  ): Promise<ExecutionArgs | GraphQLError[]> => {
    const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
      webSocket: { authorization: extra.authorization },
      params: payload,
    });
    try {
      const document = parse(payload.query);
      if (!validDocuments.has(document)) {
        const errors = validate(schema, document);
        if (errors.length > 0) return [...errors];
        validDocuments.add(document);
      }
      const contextValue: GatewayContext = await contextFactory();
      const args: ExecutionArgs = {
        schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue,
      };
      await admitOperation(args, deps.rateLimiter);
      const operation = getOperationAST(document, payload.operationName);
      const root: OperationRoot = {
        execute,
        subscribe,
        shareKey: JSON.stringify([
          contextValue.principal ? visibilityKey(contextValue.principal) : null,
          documentId(document),
          payload.operationName ?? null,
          payload.variables ?? null,
        ]),
        replayLatest:
          !!operation &&
          rootFields(document, operation.selectionSet).every((field) =>
            CURRENT_STATE_SUBSCRIPTIONS.has(field.name.value),
          ),
      };
      return { ...args, rootValue: root };
    } catch (error) {
      return asOperationErrors(error);
    }
  };

  const server = serveGraphqlWs<ConnectionExtra>(
    {
      onInternalError: (message, err) => logger.error({ err }, message),
      async onConnect(connection, params) {
        const authorization = authorizationOf(params);
        const admitted = await admitConnection(deps, authorization);
        if ('code' in admitted) {
          connection.socket.close(admitted.code, admitted.reason);
          return false;
        }
        connection.authorization = authorization;
        connection.keyId = admitted.keyId;
        return true;
      },
      async onSubscribe(connection, _id, payload) {
        // The new operation is already counted.
        if (connection.operationCount > deps.maxSubscriptionsPerSocket) {
          return [
            new GatewayError(
              'FORBIDDEN',
              `At most ${deps.maxSubscriptionsPerSocket} subscriptions at once on one connection`,
              { maxSubscriptionsPerSocket: deps.maxSubscriptionsPerSocket },
            ),
          ];
        }
        return prepare(connection, payload);
      },
      execute: (args) => (args.rootValue as OperationRoot).execute(args),
      subscribe: (args) => {
        const root = args.rootValue as OperationRoot;
        return shared.join(root.shareKey, () => root.subscribe(args), {
          replayLatest: root.replayLatest,
        });
      },
    },
    webSockets,
    deps.keepAliveMs,
  );

  return {
    *connections() {
      for (const { keyId, socket } of server.connections()) {
        if (keyId === undefined) continue;
        yield { keyId, end: () => socket.close(CLOSE_CODES.FORBIDDEN, REVOKED) };
      }
    },
    async close() {
      await server.dispose();
    },
  };
}

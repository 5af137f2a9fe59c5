/**
 * graphql-ws over `ws`: a thin adapter over graphql-ws's `makeServer` core, as its own
 * `graphql-ws/use/ws` is, with the same protocol handling, close codes and keep-alive, but
 * lighter per idle socket (thousands of them watch one job):
 *
 * - the HTTP upgrade request is not kept;
 * - one keep-alive interval pings every open socket and terminates those that did not answer
 *   the previous round's ping, instead of a timer (and a pong listener) per socket per round;
 * - no listeners or closures per socket: the socket class hands its events to one
 *   `Connection` object, which is both graphql-ws's socket and the hooks' `ctx.extra`;
 * - a message is parsed here and graphql-ws gets the parsed object (its parseMessage takes one),
 *   so a running operation does not keep the message's raw text besides the object, and the
 *   query text is kept once for all operations sending the same text (graphql-ws keeps each
 *   operation's message while it runs);
 * - the connection_init wait is a timer this adapter drops once connection_init arrives;
 *   graphql-ws's own stays referenced by the connection after it fired.
 */
import {
  CloseCode,
  type ConnectionInitMessage,
  DEPRECATED_GRAPHQL_WS_PROTOCOL,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  type WebSocket as GraphqlWsSocket,
  handleProtocols,
  MessageType,
  makeServer,
  type ServerOptions,
} from 'graphql-ws';
import { type RawData, WebSocket, type WebSocketServer } from 'ws';

/** What graphql-ws's hooks find in `ctx.extra` (plus what they add to it themselves). */
export interface Extra {
  readonly socket: WebSocket;
}

export interface GraphqlWsAdapter<E = Record<PropertyKey, never>> {
  /** The `ctx.extra` of every open socket. */
  connections(): Iterable<Extra & Partial<E>>;
  /** Closes every socket with 1001 (going away) and stops accepting. */
  dispose(): Promise<void>;
}

type ServerOptionsFor<P extends ConnectionInitMessage['payload'], E> = ServerOptions<
  P,
  Extra & Partial<E>
> & { isProd?: boolean };

/**
 * The `ws` socket class the server creates: it knows its connection and hands the connection
 * its events itself, so a socket has no listeners of its own (each costs its emitter entries).
 * Listeners added by others still get every event.
 */
class AdaptedWebSocket extends WebSocket {
  connection: Connection | null = null;

  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override emit(event: string | symbol, ...args: any[]): boolean {
    const connection = this.connection;
    if (connection) {
      switch (event) {
        case 'message':
          connection.receive(args[0] as RawData);
          break;
        case 'pong':
          connection.awaitingPong = false;
          break;
        case 'close': {
          // After the server's own listener (it forgets the client), as use/ws's order was.
          const listened = super.emit(event, ...args);
          connection.end(args[0] as number, args[1] as Buffer);
          return listened;
        }
        case 'error':
          connection.fail(
            'Internal error emitted on a WebSocket socket. Please check your implementation.',
            args[0],
          );
          // Handled: EventEmitter would throw an 'error' nobody listens to.
          if (this.listenerCount('error') === 0) return true;
          break;
      }
    }
    return super.emit(event, ...args);
  }
}

/** What every connection of one server shares (one object, not fields per connection). */
interface Shared {
  readonly isProd: boolean;
  /** JSON.parse's reviver for incoming messages: query sharing, then the options' own. */
  readonly reviver: (this: unknown, key: string, value: unknown) => unknown;
}

/** graphql-ws's connection_init wait ran out: it closes the socket the same way. */
function initTimedOut(connection: Connection): void {
  connection.initWait = null;
  connection.socket.close(
    CloseCode.ConnectionInitialisationTimeout,
    'Connection initialisation timeout',
  );
}

/** One socket's state: graphql-ws's view of the socket and the hooks' `ctx.extra`. */
class Connection implements GraphqlWsSocket, Extra {
  readonly socket: AdaptedWebSocket;
  readonly protocol: string;
  /** Pinged by the keep-alive round and not answered yet. */
  awaitingPong = false;
  /** Until connection_init arrives: closes the socket if it does not in time. */
  initWait: NodeJS.Timeout | null = null;
  // graphql-ws types it as text; its parseMessage also takes the parsed message (see receive).
  onData: ((data: string) => Promise<void>) | null = null;
  closed: ((code?: number, reason?: string) => Promise<void>) | null = null;
  readonly #shared: Shared;

  constructor(socket: AdaptedWebSocket, shared: Shared) {
    this.socket = socket;
    this.protocol = socket.protocol;
    this.#shared = shared;
  }

  send(data: string): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      if (socket.readyState !== WebSocket.OPEN) return resolve();
      socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    this.onData = cb;
  }

  /**
   * A message from the client, parsed, to graphql-ws (a failure closes the socket with 4500).
   * graphql-ws validates the parsed message itself; text that is not JSON, or is a JSON string,
   * closes the socket with 4400, as graphql-ws does.
   */
  receive(data: RawData): void {
    const onData = this.onData as ((message: unknown) => Promise<void>) | null;
    if (!onData) return;
    let message: unknown;
    try {
      message = JSON.parse(String(data), this.#shared.reviver);
    } catch {
      message = undefined;
    }
    // Not JSON, or a JSON string (which parseMessage would take for message text and parse).
    if (message === undefined || typeof message === 'string') {
      this.socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    if (
      this.initWait &&
      (message as { type?: unknown } | null)?.type === MessageType.ConnectionInit
    ) {
      clearTimeout(this.initWait);
      this.initWait = null;
    }
    onData(message).then(undefined, (err: unknown) =>
      this.fail(
        'Internal error occurred during message handling. Please check your implementation.',
        err,
      ),
    );
  }

  /** The socket closed (ws emits 'close' once): graphql-ws ends its operations. */
  end(code: number, reason: Buffer): void {
    if (this.initWait) clearTimeout(this.initWait);
    this.initWait = null;
    const closed = this.closed;
    this.closed = null;
    if (!closed) return;
    if (
      !this.#shared.isProd &&
      code === CloseCode.SubprotocolNotAcceptable &&
      this.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL
    ) {
      console.warn(
        `Client provided the unsupported and deprecated subprotocol "${this.protocol}" used by subscriptions-transport-ws.Please see https://www.apollographql.com/docs/apollo-server/data/subscriptions/#switching-from-subscriptions-transport-ws.`,
      );
    }
    void closed(code, String(reason));
  }

  /** An internal error: logged, and the socket closed with 4500. */
  fail(message: string, err: unknown): void {
    console.error(message, err);
    this.socket.close(CloseCode.InternalServerError, closeReason(err, this.#shared.isProd));
  }
}

/** Distinct query texts kept for sharing; past it the table starts over. */
const MAX_SHARED_QUERIES = 256;

/**
 * A JSON reviver that returns one string for every equal `query` text, so the operations of
 * thousands of clients sending the same query hold one copy of it, not one each.
 */
function sharedQueries(): (this: unknown, key: string, value: unknown) => unknown {
  const queries = new Map<string, string>();
  return function shareQuery(key, value) {
    if (key !== 'query' || typeof value !== 'string') return value;
    const known = queries.get(value);
    if (known !== undefined) return known;
    if (queries.size >= MAX_SHARED_QUERIES) queries.clear();
    queries.set(value, value);
    return value;
  };
}

function closeReason(err: unknown, isProd: boolean): string {
  if (isProd) return 'Internal server error';
  const reason = err instanceof Error ? err.message : String(err);
  return reason.length < 124 ? reason : 'Internal server error';
}

/**
 * Serves graphql-ws on `ws`, like `useServer` from `graphql-ws/use/ws`: every `keepAliveMs`,
 * each open socket is pinged, and one that has not answered the previous ping is terminated.
 */
export function serveGraphqlWs<
  P extends ConnectionInitMessage['payload'] = ConnectionInitMessage['payload'],
  E extends Record<PropertyKey, unknown> = Record<PropertyKey, never>,
>(options: ServerOptionsFor<P, E>, ws: WebSocketServer, keepAliveMs = 12_000): GraphqlWsAdapter<E> {
  const isProd =
    typeof options.isProd === 'boolean' ? options.isProd : process.env.NODE_ENV === 'production';
  if (ws.options.WebSocket && ws.options.WebSocket !== WebSocket) {
    throw new Error('serveGraphqlWs sets the WebSocket class of the server itself');
  }
  if (ws.options.clientTracking === false) {
    throw new Error('serveGraphqlWs needs clientTracking (its keep-alive walks ws.clients)');
  }
  const reviver = options.jsonMessageReviver;
  const shareQuery = sharedQueries();
  const shared: Shared = {
    isProd,
    reviver: reviver
      ? function (key, value) {
          return reviver.call(this, key, shareQuery.call(this, key, value));
        }
      : shareQuery,
  };
  const { connectionInitWaitTimeout: initWaitMs = 3_000 } = options;
  const server = makeServer<P, Extra & Partial<E>>({
    ...options,
    // Both done here (see Connection): messages arrive parsed, the init wait is ours.
    jsonMessageReviver: undefined,
    connectionInitWaitTimeout: 0,
  });
  ws.options.handleProtocols = handleProtocols;
  ws.options.WebSocket = AdaptedWebSocket;

  ws.once('error', (err) => {
    console.error(
      'Internal error emitted on the WebSocket server. Please check your implementation.',
      err,
    );
    let firstErr: unknown = null;
    for (const client of ws.clients) {
      try {
        client.close(CloseCode.InternalServerError, closeReason(err, isProd));
      } catch (err2) {
        firstErr = firstErr ?? err2;
      }
    }
    if (firstErr) throw firstErr;
  });

  ws.on('connection', (socket: AdaptedWebSocket) => {
    const connection = new Connection(socket, shared);
    socket.connection = connection;
    // As graphql-ws: no wait for a socket it refuses at once (wrong subprotocol).
    if (
      initWaitMs > 0 &&
      Number.isFinite(initWaitMs) &&
      socket.protocol === GRAPHQL_TRANSPORT_WS_PROTOCOL
    ) {
      connection.initWait = setTimeout(initTimedOut, initWaitMs, connection);
    }
    connection.closed = server.opened(connection, connection as unknown as Extra & Partial<E>);
  });

  const keepAlive =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          for (const socket of ws.clients as Set<AdaptedWebSocket>) {
            const connection = socket.connection;
            if (!connection) continue;
            if (connection.awaitingPong) {
              socket.terminate();
            } else if (socket.readyState === WebSocket.OPEN) {
              connection.awaitingPong = true;
              socket.ping();
            }
          }
        }, keepAliveMs)
      : null;
  keepAlive?.unref();

  return {
    *connections() {
      for (const socket of ws.clients as Set<AdaptedWebSocket>) {
        if (socket.connection) yield socket.connection as unknown as Extra & Partial<E>;
      }
    },
    async dispose() {
      if (keepAlive) clearInterval(keepAlive);
      for (const client of ws.clients) client.close(1001, 'Going away');
      ws.removeAllListeners();
      await new Promise<void>((resolve, reject) => {
        ws.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}

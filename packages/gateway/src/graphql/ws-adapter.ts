/**
 * graphql-ws's protocol (graphql-transport-ws) over `ws`, run here instead of by graphql-ws's
 * `makeServer`, with its messages, close codes and keep-alive, because thousands of idle
 * sockets watch one job and each must cost little. Per open operation, `makeServer` keeps
 * a suspended async function (with the parsed `subscribe` message and its execution
 * arguments), three `emit` closures, and per connection a context, a dictionary of operations
 * and the connection_init payload: about 1.5 KB per idle subscriber, measured. Here:
 *
 * - a connection is one object (`Connection`): graphql-ws's `ctx` and `ctx.extra` in one, with
 *   a Map of its operations, and no listeners or closures of its own (the socket class hands
 *   it its events);
 * - an operation is its entry in that Map; a shared subscriber (shared-subscriptions.ts) is
 *   piped, told of each result, so no promise waits per idle operation (other streams are
 *   pulled by a small async function); what the hooks keep of the message is theirs to decide;
 * - the HTTP upgrade request and the connection_init payload are not kept (the hooks keep
 *   what they need of it);
 * - one keep-alive interval pings every open socket and terminates those that did not answer
 *   the previous round's ping, instead of a timer (and a pong listener) per socket per round;
 * - the connection_init wait is a timer dropped once connection_init arrives;
 * - a message is parsed once, with the query text kept once for all operations sending it.
 *
 * As in graphql-ws, a socket that still has a result to write holds its stream back (a
 * pulled stream waits for every write), and messages are validated by graphql-ws's
 * `validateMessage`.
 */
import {
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  getOperationAST,
  OperationTypeNode,
} from 'graphql';
import {
  CloseCode,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  handleProtocols,
  MessageType,
  type SubscribePayload,
  validateMessage,
} from 'graphql-ws';
import { type RawData, WebSocket, type WebSocketServer } from 'ws';
import type { PipeableSubscriber, SubscriberSink } from '../subscriptions/shared-subscriptions.ts';

/** What the hooks get for a connection (plus what they add to it themselves). */
export interface Extra {
  readonly socket: WebSocket;
  /** Operations running on the connection, the one being subscribed included. */
  readonly operationCount: number;
}

type Results = ExecutionResult | AsyncIterable<ExecutionResult>;

export interface GraphqlWsHooks<E> {
  /**
   * connection_init: true acknowledges it; false closes the socket with 4403 (unless the hook
   * closed it itself). `params` is its payload, when an object.
   */
  onConnect(
    connection: Extra & Partial<E>,
    params: Readonly<Record<string, unknown>> | undefined,
  ): boolean | Promise<boolean>;
  /** subscribe: the arguments to run the operation with, or the errors to send instead. */
  onSubscribe(
    connection: Extra & Partial<E>,
    id: string,
    payload: SubscribePayload,
  ): ExecutionArgs | readonly GraphQLError[] | Promise<ExecutionArgs | readonly GraphQLError[]>;
  /** Runs queries and mutations. */
  execute(args: ExecutionArgs): Results | Promise<Results>;
  /** Runs subscriptions. */
  subscribe(args: ExecutionArgs): Results | Promise<Results>;
  /** Applied to every incoming message as JSON.parse's reviver. */
  jsonMessageReviver?: ((this: unknown, key: string, value: unknown) => unknown) | undefined;
  /** How long a socket has to send connection_init (ms); default 3 s, 0 for no limit. */
  connectionInitWaitTimeout?: number | undefined;
  /** Internal errors close sockets without their message; default NODE_ENV === 'production'. */
  isProd?: boolean | undefined;
  /** Told of every internal error (a socket then closes with 4500); default console.error. */
  onInternalError?: ((message: string, err: unknown) => void) | undefined;
}

export interface GraphqlWsAdapter<E = Record<PropertyKey, never>> {
  /** Every open socket's connection. */
  connections(): Iterable<Extra & Partial<E>>;
  /** Closes every socket with 1001 (going away) and stops accepting. */
  dispose(): Promise<void>;
}

/** A `next` message as graphql-ws sends it, `payload` being the serialized result. */
function nextMessage(id: string, payload: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`;
}

/**
 * Results already serialized. A shared subscription hands the same result object to all its
 * subscribers (the replay to late joiners and values queued for busy sockets included): it is
 * serialized once for all of them.
 */
const serializedResults = new WeakMap<ExecutionResult, string>();

/** A result as graphql-ws serializes it into `next` (errors through their toJSON). */
function serializeResult(result: ExecutionResult): string {
  let text = serializedResults.get(result);
  if (text === undefined) {
    const { errors, ...rest } = result;
    text = JSON.stringify(errors ? { ...rest, errors: errors.map((e) => e.toJSON()) } : rest);
    serializedResults.set(result, text);
  }
  return text;
}

function completeMessage(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"complete"}`;
}

function errorMessage(id: string, errors: readonly GraphQLError[]): string {
  return JSON.stringify({ id, type: MessageType.Error, payload: errors.map((e) => e.toJSON()) });
}

function isErrors(
  value: ExecutionArgs | readonly GraphQLError[],
): value is readonly GraphQLError[] {
  return Array.isArray(value);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof Object(value)[Symbol.asyncIterator] === 'function';
}

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
          connection.end();
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
  // biome-ignore lint/suspicious/noExplicitAny: the hooks' own connection type is the caller's
  readonly hooks: GraphqlWsHooks<any>;
  readonly isProd: boolean;
  readonly internalError: (message: string, err: unknown) => void;
  /** JSON.parse's reviver for incoming messages: query sharing, then the hooks' own. */
  readonly reviver: (this: unknown, key: string, value: unknown) => unknown;
}

/** The connection_init wait ran out: the socket closes as graphql-ws closes it. */
function initTimedOut(connection: Connection): void {
  connection.initWait = null;
  connection.socket.close(
    CloseCode.ConnectionInitialisationTimeout,
    'Connection initialisation timeout',
  );
}

/** A thrown error as graphql-ws reports it in an `error` message. */
function asGraphqlError(error: unknown): GraphQLError {
  const originalError = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(originalError.message, { originalError });
}

/** One socket's state: graphql-ws's `ctx` and the hooks' `ctx.extra` in one object. */
class Connection implements Extra {
  readonly socket: AdaptedWebSocket;
  /** Pinged by the keep-alive round and not answered yet. */
  awaitingPong = false;
  /** Until connection_init arrives: closes the socket if it does not in time. */
  initWait: NodeJS.Timeout | null = null;
  initReceived = false;
  acknowledged = false;
  /**
   * Operation id → its results while they stream (null while it is being prepared); null
   * until the first subscribe.
   */
  operations: Map<string, AsyncIterable<ExecutionResult> | null> | null = null;
  readonly #shared: Shared;

  constructor(socket: AdaptedWebSocket, shared: Shared) {
    this.socket = socket;
    this.#shared = shared;
  }

  get operationCount(): number {
    return this.operations?.size ?? 0;
  }

  /** Resolves once `data` was written (at once if the socket is no longer open). */
  send(data: string): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      if (socket.readyState !== WebSocket.OPEN) return resolve();
      socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * A message from the client. Text that is not JSON, or not a valid message, closes the
   * socket with 4400; an internal error (a hook's) with 4500.
   */
  receive(data: RawData): void {
    let message: ReturnType<typeof validateMessage>;
    try {
      message = validateMessage(JSON.parse(String(data), this.#shared.reviver));
    } catch {
      this.socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    // A subscribe catches its own failures: no promise chain stays behind a running operation.
    if (message.type === MessageType.Subscribe) void this.#subscribe(message.id, message.payload);
    else this.#reply(message).then(undefined, (err: unknown) => this.handlingFailed(err));
  }

  /** A failure handling a message or writing an operation's results: 4500. */
  handlingFailed(err: unknown): void {
    this.fail(
      'Internal error occurred during message handling. Please check your implementation.',
      err,
    );
  }

  /** Every message but subscribe. */
  async #reply(message: ReturnType<typeof validateMessage>): Promise<void> {
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (this.initWait) clearTimeout(this.initWait);
        this.initWait = null;
        if (this.initReceived) {
          this.socket.close(
            CloseCode.TooManyInitialisationRequests,
            'Too many initialisation requests',
          );
          return;
        }
        this.initReceived = true;
        const params = message.payload ?? undefined;
        if (!(await this.#shared.hooks.onConnect(this, params))) {
          this.socket.close(CloseCode.Forbidden, 'Forbidden');
          return;
        }
        this.acknowledged = true;
        await this.send(`{"type":"${MessageType.ConnectionAck}"}`);
        return;
      }
      case MessageType.Ping:
        await this.send(
          JSON.stringify(
            message.payload
              ? { type: MessageType.Pong, payload: message.payload }
              : { type: MessageType.Pong },
          ),
        );
        return;
      case MessageType.Pong:
        return;
      case MessageType.Complete: {
        const results = this.operations?.get(message.id);
        this.operations?.delete(message.id);
        await stop(results);
        return;
      }
      default:
        // As graphql-ws: a client's connection_ack, next or error ends the connection (4500).
        throw new Error(`Unexpected message of type ${message.type} received`);
    }
  }

  async #subscribe(id: string, payload: SubscribePayload): Promise<void> {
    if (!this.acknowledged) {
      this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
      return;
    }
    this.operations ??= new Map();
    const operations = this.operations;
    if (operations.has(id)) {
      this.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return;
    }
    operations.set(id, null);
    let streaming = false;
    try {
      const results = await this.#execute(id, payload);
      if (results === null) return;
      if (!isAsyncIterable(results)) {
        if (operations.has(id)) await this.send(nextMessage(id, serializeResult(results)));
        if (operations.has(id)) await this.send(completeMessage(id));
        return;
      }
      if (!operations.has(id)) {
        // Completed by the client (or the socket closed) while it was being prepared.
        await stop(results);
        return;
      }
      operations.set(id, results);
      streaming = true;
      // Not awaited: what preparing it held (message, arguments) can go.
      if (isPipeable(results)) results.pipe(new PipedOperation(this, id, results));
      else void this.#stream(id, results);
    } catch (err) {
      this.handlingFailed(err);
    } finally {
      if (!streaming) operations.delete(id);
    }
  }

  /** Runs the operation: its results, or null once the errors to send instead were sent. */
  async #execute(id: string, payload: SubscribePayload): Promise<Results | null> {
    const { hooks } = this.#shared;
    const args = await hooks.onSubscribe(this, id, payload);
    if (isErrors(args)) {
      if (this.operations?.has(id)) await this.send(errorMessage(id, args));
      return null;
    }
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) {
      if (this.operations?.has(id)) {
        await this.send(errorMessage(id, [new GraphQLError('Unable to identify operation')]));
      }
      return null;
    }
    return operation.operation === OperationTypeNode.SUBSCRIPTION
      ? hooks.subscribe(args)
      : hooks.execute(args);
  }

  /** Sends each result once the previous one was written. */
  async #stream(id: string, results: AsyncIterable<ExecutionResult>): Promise<void> {
    let error: { value: unknown } | undefined;
    try {
      for await (const result of results) {
        await this.send(nextMessage(id, serializeResult(result)));
      }
    } catch (err) {
      error = { value: err };
    }
    await this.endOperation(id, results, error);
  }

  /**
   * An operation's `results` ended: its error, or complete. Not if the client completed it
   * (or the socket closed), and then its id may already run another operation.
   */
  async endOperation(
    id: string,
    results: AsyncIterable<ExecutionResult>,
    error?: { value: unknown },
  ): Promise<void> {
    const operations = this.operations as Map<string, AsyncIterable<ExecutionResult> | null>;
    if (operations.get(id) !== results) return;
    try {
      await this.send(
        error ? errorMessage(id, [asGraphqlError(error.value)]) : completeMessage(id),
      );
    } catch (err) {
      this.handlingFailed(err);
    } finally {
      if (operations.get(id) === results) operations.delete(id);
    }
  }

  /** The socket closed (ws emits 'close' once): the running operations stop. */
  end(): void {
    if (this.initWait) clearTimeout(this.initWait);
    this.initWait = null;
    // Emptied, not dropped: an operation still being prepared finds itself gone and stops.
    const operations = this.operations;
    if (operations) {
      for (const results of operations.values()) void stop(results);
      operations.clear();
    }
  }

  /** An internal error: reported, and the socket closed with 4500. */
  fail(message: string, err: unknown): void {
    this.#shared.internalError(message, err);
    this.socket.close(CloseCode.InternalServerError, closeReason(err, this.#shared.isProd));
  }
}

/**
 * The operation of a piped subscriber (shared-subscriptions.ts): each result goes out as the
 * source yields it; while the socket still has data waiting to be written, the next one waits
 * for that write (meanwhile values wait in the subscriber's bounded queue). No promise stays
 * pending while it is idle.
 */
class PipedOperation implements SubscriberSink<ExecutionResult> {
  readonly #connection: Connection;
  readonly #id: string;
  readonly #results: PipeableSubscriber<ExecutionResult>;
  /** ws's write callback: one per operation, not one per message. */
  readonly #written = (err?: Error | null) => {
    // A write cut short by the socket closing is no failure: the operation ends with it.
    if (err && this.#connection.socket.readyState === WebSocket.OPEN) {
      this.#connection.handlingFailed(err);
    } else {
      this.#results.resume();
    }
  };

  constructor(connection: Connection, id: string, results: PipeableSubscriber<ExecutionResult>) {
    this.#connection = connection;
    this.#id = id;
    this.#results = results;
  }

  next(result: ExecutionResult): void {
    const socket = this.#connection.socket;
    if (socket.readyState !== WebSocket.OPEN) {
      this.#results.resume();
      return;
    }
    const message = nextMessage(this.#id, serializeResult(result));
    if (socket.bufferedAmount > 0) {
      socket.send(message, this.#written);
      return;
    }
    // Nothing waiting to be written, so this goes to the kernel at once: not waited for (a
    // write callback per socket per event costs the fan-out's delivery time).
    socket.send(message);
    this.#results.resume();
  }

  end(error?: { value: unknown }): void {
    void this.#connection.endOperation(this.#id, this.#results, error);
  }
}

function isPipeable(
  results: AsyncIterable<ExecutionResult>,
): results is PipeableSubscriber<ExecutionResult> {
  return typeof (results as Partial<PipeableSubscriber<ExecutionResult>>).pipe === 'function';
}

/** Stops a stream the client no longer wants (as graphql-ws: async generators and alike). */
async function stop(results: AsyncIterable<ExecutionResult> | null | undefined): Promise<void> {
  const iterator = results as Partial<AsyncGenerator<ExecutionResult>> | null | undefined;
  if (typeof iterator?.return === 'function' && typeof iterator.throw === 'function') {
    await iterator.return(undefined);
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
export function serveGraphqlWs<E extends Record<PropertyKey, unknown> = Record<PropertyKey, never>>(
  hooks: GraphqlWsHooks<E>,
  ws: WebSocketServer,
  keepAliveMs = 12_000,
): GraphqlWsAdapter<E> {
  const isProd =
    typeof hooks.isProd === 'boolean' ? hooks.isProd : process.env.NODE_ENV === 'production';
  if (ws.options.WebSocket && ws.options.WebSocket !== WebSocket) {
    throw new Error('serveGraphqlWs sets the WebSocket class of the server itself');
  }
  if (ws.options.clientTracking === false) {
    throw new Error('serveGraphqlWs needs clientTracking (its keep-alive walks ws.clients)');
  }
  const reviver = hooks.jsonMessageReviver;
  const shareQuery = sharedQueries();
  const internalError = hooks.onInternalError ?? console.error;
  const shared: Shared = {
    hooks,
    isProd,
    internalError,
    reviver: reviver
      ? function (key, value) {
          return reviver.call(this, key, shareQuery.call(this, key, value));
        }
      : shareQuery,
  };
  const { connectionInitWaitTimeout: initWaitMs = 3_000 } = hooks;
  ws.options.handleProtocols = handleProtocols;
  ws.options.WebSocket = AdaptedWebSocket;

  ws.once('error', (err) => {
    internalError(
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
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    const connection = new Connection(socket, shared);
    socket.connection = connection;
    if (initWaitMs > 0 && Number.isFinite(initWaitMs)) {
      connection.initWait = setTimeout(initTimedOut, initWaitMs, connection);
    }
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
      await new Promise<void>((resolve) => {
        ws.close(() => resolve());
      });
    },
  };
}

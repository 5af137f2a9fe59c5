/**
 * graphql-ws's protocol over `ws` (ws-adapter.ts): its messages and close codes, what the hooks
 * get for a connection, the shared keep-alive and disposal.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, execute, GraphQLError, parse, subscribe } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type Extra,
  type GraphqlWsAdapter,
  type GraphqlWsHooks,
  serveGraphqlWs,
} from '../src/graphql/ws-adapter.ts';

const schema = buildSchema(`
  type Query { hello: String }
  type Subscription { ticks: Int, forever: Int }
`);

/** `forever`'s streams: each yields 1, then waits until it is stopped. */
const foreverStreams: { stopped: Promise<void> }[] = [];

function forever(): AsyncIterableIterator<{ forever: number }> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  foreverStreams.push({ stopped });
  let first = true;
  const done = { value: undefined, done: true } as const;
  return {
    async next() {
      if (first) {
        first = false;
        return { value: { forever: 1 }, done: false };
      }
      await stopped;
      return done;
    },
    async return() {
      stop();
      return done;
    },
    async throw(error: unknown) {
      stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const rootValue = {
  hello: () => 'world',
  ticks: async function* () {
    yield { ticks: 1 };
    yield { ticks: 2 };
  },
  forever,
};

interface Running {
  url: string;
  adapter: GraphqlWsAdapter;
  extras: Extra[];
  close(): Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function start(
  keepAliveMs: number,
  options: Pick<GraphqlWsHooks<never>, 'connectionInitWaitTimeout' | 'jsonMessageReviver'> = {},
): Promise<Running> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http, path: '/graphql' });
  const extras: Extra[] = [];
  const adapter = serveGraphqlWs(
    {
      ...options,
      onConnect(connection) {
        extras.push(connection);
        return true;
      },
      onSubscribe: (_connection, _id, payload) =>
        payload.query === 'refused'
          ? [new GraphQLError('Refused by onSubscribe')]
          : { schema, document: parse(payload.query), rootValue },
      execute,
      subscribe,
    },
    wss,
    keepAliveMs,
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  let disposed = false;
  const r: Running = {
    url: `ws://127.0.0.1:${port}/graphql`,
    adapter,
    extras,
    async close() {
      if (!disposed) {
        disposed = true;
        await adapter.dispose();
      }
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
  running.push(r);
  return r;
}

function connect(
  url: string,
  options: WebSocket.ClientOptions = {},
  protocols: string[] = ['graphql-transport-ws'],
) {
  const socket = new WebSocket(url, protocols, options);
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  /** The `nth` message of `type` (the first by default), once it arrived. */
  const message = async (type: string, nth = 1) => {
    for (;;) {
      const found = messages.filter((m) => m.type === type)[nth - 1];
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const send = (value: unknown) => socket.send(JSON.stringify(value));
  /** Opened and acknowledged. */
  const ready = async () => {
    await opened;
    send({ type: 'connection_init' });
    await message('connection_ack');
  };
  return { socket, closed, opened, message, messages, send, ready };
}

/** A client of a new server without keep-alive, connected and acknowledged. */
async function readyClient() {
  const client = connect((await start(0)).url);
  await client.ready();
  return client;
}

describe('serveGraphqlWs', () => {
  it('speaks graphql-transport-ws and gives hooks the socket, not the request', async () => {
    const server = await start(0);
    const client = connect(server.url);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'connection_init' }));
    await client.message('connection_ack');
    client.socket.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ hello }' } }),
    );
    expect(await client.message('next')).toEqual({
      id: '1',
      type: 'next',
      payload: { data: { hello: 'world' } },
    });
    expect(await client.message('complete')).toEqual({ id: '1', type: 'complete' });
    const [extra] = server.extras;
    expect(extra?.socket).toBeInstanceOf(WebSocket);
    expect('request' in (extra ?? {})).toBe(false);
    client.socket.close(1000);
    await client.closed;
  });

  it('streams a subscription’s results in order, then completes it', async () => {
    const client = await readyClient();
    client.send({ id: 's', type: 'subscribe', payload: { query: 'subscription { ticks }' } });
    await client.message('complete');
    expect(client.messages.filter((m) => m.id === 's')).toEqual([
      { id: 's', type: 'next', payload: { data: { ticks: 1 } } },
      { id: 's', type: 'next', payload: { data: { ticks: 2 } } },
      { id: 's', type: 'complete' },
    ]);
  });

  it('sends the errors of onSubscribe as an error message, and runs nothing', async () => {
    const client = await readyClient();
    client.send({ id: 'e', type: 'subscribe', payload: { query: 'refused' } });
    expect(await client.message('error')).toEqual({
      id: 'e',
      type: 'error',
      payload: [{ message: 'Refused by onSubscribe' }],
    });
    // The id is free again.
    client.send({ id: 'e', type: 'subscribe', payload: { query: '{ hello }' } });
    expect(await client.message('next')).toMatchObject({ id: 'e' });
  });

  it('stops a stream the client completes, without a complete message', async () => {
    const client = await readyClient();
    client.send({ id: 'f', type: 'subscribe', payload: { query: 'subscription { forever }' } });
    await client.message('next');
    client.send({ id: 'f', type: 'complete' });
    await foreverStreams.at(-1)?.stopped;
    // Answered after the complete: nothing came for `f` in between.
    client.send({ type: 'ping' });
    await client.message('pong');
    expect(client.messages.filter((m) => m.id === 'f').map((m) => m.type)).toEqual(['next']);
  });

  it('runs a new operation under an id the client just completed, untouched by the old one', async () => {
    const client = await readyClient();
    client.send({ id: 'f', type: 'subscribe', payload: { query: 'subscription { forever }' } });
    await client.message('next');
    client.send({ id: 'f', type: 'complete' });
    client.send({ id: 'f', type: 'subscribe', payload: { query: 'subscription { ticks }' } });
    await client.message('complete');
    expect(client.messages.filter((m) => m.id === 'f')).toEqual([
      { id: 'f', type: 'next', payload: { data: { forever: 1 } } },
      { id: 'f', type: 'next', payload: { data: { ticks: 1 } } },
      { id: 'f', type: 'next', payload: { data: { ticks: 2 } } },
      { id: 'f', type: 'complete' },
    ]);
  });

  it('stops the running streams of a socket that closes', async () => {
    const client = await readyClient();
    client.send({ id: 'f', type: 'subscribe', payload: { query: 'subscription { forever }' } });
    await client.message('next');
    client.socket.close(1000);
    await foreverStreams.at(-1)?.stopped;
  });

  it('answers a ping with a pong carrying its payload', async () => {
    const server = await start(0);
    const client = connect(server.url);
    await client.opened;
    client.send({ type: 'ping', payload: { at: 1 } });
    expect(await client.message('pong')).toEqual({ type: 'pong', payload: { at: 1 } });
  });

  it('closes with 4401 on a subscribe before the connection was acknowledged', async () => {
    const server = await start(0);
    const client = connect(server.url);
    await client.opened;
    client.send({ id: '1', type: 'subscribe', payload: { query: '{ hello }' } });
    expect(await client.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
  });

  it('closes with 4429 on a second connection_init', async () => {
    const client = await readyClient();
    client.send({ type: 'connection_init' });
    expect(await client.closed).toEqual({ code: 4429, reason: 'Too many initialisation requests' });
  });

  it('closes with 4409 on a subscribe whose id is running', async () => {
    const client = await readyClient();
    client.send({ id: 'f', type: 'subscribe', payload: { query: 'subscription { forever }' } });
    await client.message('next');
    client.send({ id: 'f', type: 'subscribe', payload: { query: '{ hello }' } });
    expect(await client.closed).toEqual({ code: 4409, reason: 'Subscriber for f already exists' });
    await foreverStreams.at(-1)?.stopped;
  });

  it('closes with 4500 on a message only a server sends', async () => {
    const server = await start(0);
    const client = connect(server.url);
    await client.ready();
    client.send({ id: '1', type: 'next', payload: { data: null } });
    expect(await client.closed).toEqual({
      code: 4500,
      reason: 'Unexpected message of type next received',
    });
  });

  it('refuses a socket without the graphql-transport-ws subprotocol with 4406', async () => {
    const server = await start(0);
    const client = connect(server.url, {}, []);
    expect((await client.closed).code).toBe(4406);
  });

  it('pings open sockets each round and terminates one that did not answer the last ping', async () => {
    // A round is the time a pong has to come back: long enough for a loaded machine, where
    // 20 ms would let an answering socket miss its round.
    const server = await start(250);
    const alive = connect(server.url);
    const dead = connect(server.url, { autoPong: false });
    await Promise.all([alive.opened, dead.opened]);
    let pings = 0;
    alive.socket.on('ping', () => pings++);
    expect((await dead.closed).code).toBe(1006);
    // The answering socket stays open through more rounds (and fails here at once if not).
    const roundsLater = new Promise<'three more pings'>((resolve) => {
      const seen = pings;
      alive.socket.on('ping', () => pings >= seen + 3 && resolve('three more pings'));
    });
    expect(await Promise.race([roundsLater, alive.closed])).toBe('three more pings');
    expect(alive.socket.readyState).toBe(WebSocket.OPEN);
    alive.socket.close(1000);
    await alive.closed;
  });

  it('closes a socket that sends text that is not JSON with 4400', async () => {
    const server = await start(0);
    const client = connect(server.url);
    await client.opened;
    client.socket.send('{"type": "connection_init"');
    expect(await client.closed).toEqual({ code: 4400, reason: 'Invalid message received' });
  });

  it('closes a socket that sends a message as a JSON string (encoded twice) with 4400', async () => {
    const server = await start(0);
    const client = connect(server.url);
    await client.opened;
    client.socket.send(JSON.stringify(JSON.stringify({ type: 'connection_init' })));
    expect(await client.closed).toEqual({ code: 4400, reason: 'Invalid message received' });
  });

  it('applies the options’ own jsonMessageReviver to every message', async () => {
    const server = await start(0, {
      jsonMessageReviver: (key, value) =>
        key === 'query' && value === 'greet' ? '{ hello }' : value,
    });
    const client = connect(server.url);
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'connection_init' }));
    await client.message('connection_ack');
    client.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'greet' } }));
    expect(await client.message('next')).toMatchObject({ payload: { data: { hello: 'world' } } });
    client.socket.close(1000);
    await client.closed;
  });

  it('closes a socket without connection_init within the wait with 4408, and only that one', async () => {
    const server = await start(0, { connectionInitWaitTimeout: 200 });
    const initialised = connect(server.url);
    await initialised.opened;
    initialised.socket.send(JSON.stringify({ type: 'connection_init' }));
    await initialised.message('connection_ack');
    // Opened after the first one: its wait ends later than the first one's would have.
    const silent = connect(server.url);
    expect(await silent.closed).toEqual({
      code: 4408,
      reason: 'Connection initialisation timeout',
    });
    expect(initialised.socket.readyState).toBe(WebSocket.OPEN);
    initialised.socket.close(1000);
    await initialised.closed;
  });

  it('closes every socket with 1001 on dispose', async () => {
    const server = await start(12_000);
    const client = connect(server.url);
    await client.opened;
    await server.close();
    expect((await client.closed).code).toBe(1001);
  });
});

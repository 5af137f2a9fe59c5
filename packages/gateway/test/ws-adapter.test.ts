/**
 * The graphql-ws adapter over `ws` (ws-adapter.ts): the protocol through graphql-ws's core,
 * what the hooks find in ctx.extra, the shared keep-alive and disposal.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { type Extra, type GraphqlWsAdapter, serveGraphqlWs } from '../src/graphql/ws-adapter.ts';

const schema = buildSchema('type Query { hello: String }');
const rootValue = { hello: () => 'world' };

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
  options: Pick<ServerOptions, 'connectionInitWaitTimeout' | 'jsonMessageReviver'> = {},
): Promise<Running> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http, path: '/graphql' });
  const extras: Extra[] = [];
  const adapter = serveGraphqlWs(
    {
      schema,
      roots: { query: rootValue },
      ...options,
      onConnect(ctx) {
        extras.push(ctx.extra);
        return true;
      },
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
  const message = async (type: string) => {
    for (;;) {
      const found = messages.find((m) => m.type === type);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { socket, closed, opened, message };
}

describe('serveGraphqlWs', () => {
  it('speaks graphql-transport-ws through the core and gives hooks the socket, not the request', async () => {
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

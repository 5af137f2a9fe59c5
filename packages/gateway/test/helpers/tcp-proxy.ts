/**
 * A TCP proxy in front of a server (Redis, PostgreSQL) that a test can cut and restore, to drop a client's
 * connection without touching the server: `cut()` destroys every proxied connection and turns
 * new ones away until `restore()`. Given a function instead of one server, it is a load
 * balancer: each new connection goes where the function says at that moment.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  cut(): void;
  restore(): void;
  /** Stops forwarding on the connections open now, leaving them open: a silent death. */
  freeze(): void;
  /**
   * freeze(), and new connections are accepted but never forwarded: a server that hangs, until
   * restore() drops those connections and forwards again.
   */
  hang(): void;
  close(): Promise<void>;
}

export interface TcpTarget {
  host: string;
  port: number;
}

/** `target`, or a function naming each new connection's server (undefined: turned away). */
export async function startTcpProxy(
  target: TcpTarget | (() => TcpTarget | undefined),
): Promise<TcpProxy> {
  const pick = typeof target === 'function' ? target : () => target;
  const pairs = new Set<[Socket, Socket]>();
  /** Connections taken while hanging, held open without an answer until close(). */
  const held = new Set<Socket>();
  let cut = false;
  let hanging = false;
  const server = createServer((client) => {
    const chosen = cut ? undefined : pick();
    if (chosen === undefined) {
      client.destroy();
      return;
    }
    if (hanging) {
      held.add(client);
      client.on('error', () => {}).on('close', () => held.delete(client));
      return;
    }
    const upstream = connect(chosen.port, chosen.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const destroyAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    for (const client of held) client.destroy();
    held.clear();
  };
  const freeze = () => {
    for (const [client, upstream] of pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      cut = true;
      destroyAll();
    },
    restore() {
      cut = false;
      if (hanging) {
        // What hung stays dead, as after a real outage: its connections are dropped.
        hanging = false;
        destroyAll();
      }
    },
    freeze,
    hang() {
      freeze();
      hanging = true;
    },
    close() {
      destroyAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy in front of the server that `url` (redis://…, postgres://…) names. */
export function startTcpProxyTo(url: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(url);
  return startTcpProxy({ host: hostname, port: Number(port) });
}

/** `url` (credentials, database, parameters and all) reaching its server through `proxy`. */
export function throughProxy(proxy: TcpProxy, url: string): string {
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = new URL(proxy.url).port;
  return proxied.toString();
}

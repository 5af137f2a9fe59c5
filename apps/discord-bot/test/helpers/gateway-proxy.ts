/**
 * A TCP pass-through in front of the real gateway, for HTTP and graphql-ws alike: it records
 * when the bot first reaches the gateway, and can hold every connection, as a gateway that
 * stalls would.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';
import type { Timeline } from './timeline.ts';

export class GatewayProxy {
  readonly #server = createServer((socket) => this.#accept(socket));
  readonly #upstream: URL;
  readonly #timeline: Timeline;
  readonly #sockets = new Set<Socket>();
  #held: (() => void)[] | null = null;

  private constructor(upstream: string, timeline: Timeline) {
    this.#upstream = new URL(upstream);
    this.#timeline = timeline;
  }

  static async start(upstream: string, timeline: Timeline): Promise<GatewayProxy> {
    const proxy = new GatewayProxy(upstream, timeline);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** From now on, connections wait until `release()`. */
  stall(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const go of held) go();
  }

  /** Cuts every open connection, as a network blip or a gateway restart would. */
  dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  async close(): Promise<void> {
    this.release();
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #accept(client: Socket): void {
    this.#sockets.add(client);
    client.once('data', (first) => {
      this.#timeline.record('gateway', first.toString('latin1').split('\r\n', 1)[0] ?? '');
      client.pause();
      const go = () => {
        const upstream = connect(Number(this.#upstream.port), this.#upstream.hostname, () => {
          upstream.write(first);
          client.pipe(upstream).pipe(client);
          client.resume();
        });
        this.#sockets.add(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      };
      if (this.#held) this.#held.push(go);
      else go();
    });
  }
}

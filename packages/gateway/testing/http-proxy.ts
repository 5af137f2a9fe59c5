/**
 * For the tests of the gateway's clients: a TCP pass-through in front of the gateway, for HTTP
 * and WebSockets alike, that records each connection's first request line and can do to the
 * connection what networks do: cut every open connection, hold new ones until released (a
 * gateway that stalls), or lose the next answer (the request reaches the gateway, its answer
 * never comes back).
 */
import { EventEmitter, once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface HttpProxyOptions {
  /** Called with each connection's first request line as it arrives, before it is forwarded. */
  onConnection?: (requestLine: string) => void;
}

export class HttpProxy {
  readonly #server = createServer((socket) => this.#accept(socket));
  readonly #upstream: URL;
  readonly #sockets = new Set<Socket>();
  readonly #events = new EventEmitter();
  #held: (() => void)[] | null = null;
  #loseNextAnswer = false;
  /** The first request line of every connection, in order (`GET /graphql HTTP/1.1`, ...). */
  readonly connections: string[] = [];
  /** What the gateway sent on each connection, as text (WebSocket frames from it are unmasked). */
  readonly received: string[] = [];

  readonly #onConnection: ((requestLine: string) => void) | undefined;

  private constructor(upstream: string, options: HttpProxyOptions) {
    this.#upstream = new URL(upstream);
    this.#onConnection = options.onConnection;
  }

  static async start(upstream: string, options: HttpProxyOptions = {}): Promise<HttpProxy> {
    const proxy = new HttpProxy(upstream, options);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** WebSocket upgrades so far. */
  get webSockets(): number {
    return this.connections.filter((line) => line.startsWith('GET /graphql')).length;
  }

  /** Resolves once `condition` holds, checked after every connection and every chunk received. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await once(this.#events, 'change');
  }

  /** Cuts every open connection, as a network blip or a gateway restart would. */
  cutConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** New connections wait until `release()`. */
  hold(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const go of held) go();
  }

  /** The next answer from the gateway is dropped, and its connection cut. */
  loseNextAnswer(): void {
    this.#loseNextAnswer = true;
  }

  async close(): Promise<void> {
    this.release();
    this.cutConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #accept(client: Socket): void {
    this.#sockets.add(client);
    client.once('data', (first) => {
      client.pause();
      const requestLine = first.toString('latin1').split('\r\n', 1)[0] ?? '';
      this.#onConnection?.(requestLine);
      const index = this.connections.push(requestLine) - 1;
      this.received[index] = '';
      this.#events.emit('change');
      const go = () => {
        const upstream = connect(Number(this.#upstream.port), this.#upstream.hostname, () => {
          upstream.write(first);
          client.pipe(upstream);
          client.resume();
        });
        this.#sockets.add(upstream);
        upstream.on('data', (chunk: Buffer) => {
          if (this.#loseNextAnswer) {
            this.#loseNextAnswer = false;
            upstream.destroy();
            client.destroy();
            return;
          }
          this.received[index] += chunk.toString('latin1');
          client.write(chunk);
          this.#events.emit('change');
        });
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

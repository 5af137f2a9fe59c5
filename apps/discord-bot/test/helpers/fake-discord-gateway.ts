/**
 * A stand-in for Discord's gateway (the WebSocket a bot logs in to), on loopback: enough of
 * the protocol for discord.js to log in (HELLO, IDENTIFY → READY and the guild's
 * GUILD_CREATE, heartbeats acknowledged) and then receive the dispatches a test sends, such
 * as INTERACTION_CREATE. For bots running as their own process; in-process tests feed the
 * client directly (bot-harness.ts).
 */
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { GatewayDispatchEvents, GatewayOpcodes } from 'discord.js';
import { type WebSocket, WebSocketServer } from 'ws';
import { APP_ID, GUILD_ID, guildCreatePayload } from './interactions.ts';

export class FakeDiscordGateway {
  readonly #server: WebSocketServer;
  readonly #events = new EventEmitter();
  /** Sessions that have identified, with the sequence number of their last dispatch. */
  readonly #sessions = new Map<WebSocket, { sequence: number }>();
  /** How many times a bot has identified (logged in). */
  identifications = 0;

  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on('connection', (socket) => this.#accept(socket));
  }

  static async start(): Promise<FakeDiscordGateway> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    return new FakeDiscordGateway(server);
  }

  /** What GET /gateway/bot answers with. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `ws://127.0.0.1:${port}`;
  }

  /** Resolves once the `count`-th login has been answered with READY and the guild. */
  async identified(count: number): Promise<void> {
    while (this.identifications < count) await once(this.#events, 'identified');
  }

  /** Sends a dispatch (op 0) to every logged-in bot. */
  dispatch(event: string, data: unknown): void {
    for (const [socket, session] of this.#sessions) this.#send(socket, session, event, data);
  }

  async close(): Promise<void> {
    for (const socket of this.#server.clients) socket.terminate();
    await new Promise<void>((resolve, reject) =>
      this.#server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  #send(socket: WebSocket, session: { sequence: number }, event: string, data: unknown): void {
    session.sequence += 1;
    socket.send(
      JSON.stringify({ op: GatewayOpcodes.Dispatch, t: event, s: session.sequence, d: data }),
    );
  }

  #accept(socket: WebSocket): void {
    socket.on('close', () => this.#sessions.delete(socket));
    socket.on('message', (raw) => {
      const packet = JSON.parse(raw.toString()) as { op: number; d: unknown };
      if (packet.op === GatewayOpcodes.Heartbeat) {
        socket.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck }));
      } else if (packet.op === GatewayOpcodes.Identify) {
        const session = { sequence: 0 };
        this.#sessions.set(socket, session);
        this.#send(socket, session, GatewayDispatchEvents.Ready, {
          v: 10,
          user: { id: APP_ID, username: 'zimage', discriminator: '0', avatar: null, bot: true },
          guilds: [{ id: GUILD_ID, unavailable: true }],
          session_id: `fake-session-${this.identifications}`,
          resume_gateway_url: this.url,
          shard: [0, 1],
          application: { id: APP_ID, flags: 0 },
        });
        this.#send(socket, session, GatewayDispatchEvents.GuildCreate, guildCreatePayload());
        this.identifications += 1;
        this.#events.emit('identified');
      }
    });
    socket.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: 45_000 } }));
  }
}

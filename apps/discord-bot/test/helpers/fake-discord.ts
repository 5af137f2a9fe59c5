/**
 * A stand-in for Discord's REST API, on loopback: it records every request (JSON bodies and
 * multipart files alike) in arrival order and answers the way Discord does for the routes the
 * bot uses. Tests can make it answer 429 or treat an interaction token as expired.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Timeline } from './timeline.ts';

export interface RecordedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface DiscordRequest {
  method: string;
  /** The path after `/api/v10`, e.g. `/interactions/1/tok/callback`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the bot sent.
  json: any;
  files: RecordedFile[];
  /** The HTTP status the fake answered with, and its body. */
  status: number;
  response: unknown;
}

export interface FakeDiscordOptions {
  /** Where interaction messages live (the tests use one channel). */
  webhookChannelId: string;
  timeline?: Timeline;
  /** The gateway WebSocket GET /gateway/bot points to, for bots that log in (fake-discord-gateway.ts). */
  gatewayUrl?: string;
}

type Matcher = (request: DiscordRequest) => boolean;

interface RateLimitRule {
  match: Matcher;
  retryAfterSeconds: number;
  remaining: number;
}

const API_PREFIX = '/api/v10';

export class FakeDiscord {
  readonly requests: DiscordRequest[] = [];
  readonly #server = createServer((req, res) => void this.#handle(req, res));
  readonly #timeline: Timeline | undefined;
  readonly #webhookChannelId: string;
  readonly #gatewayUrl: string | undefined;
  readonly #rateLimits: RateLimitRule[] = [];
  readonly #expiredTokens = new Set<string>();
  #messageSeq = 0;
  /** Message ids of interaction originals, so edits keep answering with the same message. */
  readonly #originals = new Map<string, string>();
  /** Checks of pending `waitFor` calls, run on every answered request. */
  readonly #waiters = new Set<() => void>();

  private constructor(options: FakeDiscordOptions) {
    this.#timeline = options.timeline;
    this.#webhookChannelId = options.webhookChannelId;
    this.#gatewayUrl = options.gatewayUrl;
  }

  static async start(options: FakeDiscordOptions): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    return fake;
  }

  /** What the bot takes as DISCORD_API_URL. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/api`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  /** Answer the next `times` matching requests with 429 and Discord's rate-limit headers. */
  rateLimit(match: Matcher, retryAfterSeconds: number, times = 1): void {
    this.#rateLimits.push({ match, retryAfterSeconds, remaining: times });
  }

  /** Webhook calls with this token fail as Discord's do 15 minutes after the interaction. */
  expireToken(token: string): void {
    this.#expiredTokens.add(token);
  }

  /** The requests so far that match. */
  find(match: Matcher): DiscordRequest[] {
    return this.requests.filter(match);
  }

  /**
   * Resolves with the first request (past or future) that matches, once it is answered. Past
   * 20 s, which no passing run comes near, it fails and lists what did arrive.
   */
  waitFor(match: Matcher, description = 'a matching request'): Promise<DiscordRequest> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.requests.find(match);
        if (!found) return;
        settle();
        resolve(found);
      };
      const timer = setTimeout(() => {
        settle();
        const got = this.requests.map((r) => `${r.method} ${r.path} ${r.status}`).join('\n');
        reject(new Error(`fake Discord: no ${description} within 20 s; got:\n${got}`));
      }, 20_000);
      const settle = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const pathname = decodeURIComponent(url.pathname);
    const path = pathname.startsWith(API_PREFIX) ? pathname.slice(API_PREFIX.length) : pathname;
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const { json, files } = await parseBody(req, raw);
    const request: DiscordRequest = {
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
      json,
      files,
      status: 0,
      response: undefined,
    };
    this.#timeline?.record('discord', `${method} ${path}`);

    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      request.status = status;
      request.response = body;
      this.requests.push(request);
      res.writeHead(status, {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      });
      res.end(body === undefined ? undefined : JSON.stringify(body));
      for (const check of [...this.#waiters]) check();
    };

    const limited = this.#rateLimits.find((rule) => rule.remaining > 0 && rule.match(request));
    if (limited) {
      limited.remaining -= 1;
      const seconds = String(limited.retryAfterSeconds);
      return answer(
        429,
        {
          message: 'You are being rate limited.',
          retry_after: limited.retryAfterSeconds,
          global: false,
        },
        {
          'retry-after': seconds,
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': seconds,
          'x-ratelimit-bucket': 'fake-bucket',
          'x-ratelimit-scope': 'user',
        },
      );
    }

    const webhook = /^\/webhooks\/(\d+)\/([^/]+)(\/messages\/([^/]+))?$/.exec(path);
    if (webhook && this.#expiredTokens.has(webhook[2] ?? '')) {
      return answer(401, { message: 'Invalid Webhook Token', code: 50027 });
    }

    const route = (routeMethod: string, pattern: RegExp) =>
      method === routeMethod ? pattern.exec(path) : null;
    if (route('POST', /^\/interactions\/\d+\/[^/]+\/callback$/)) return answer(204);
    if (webhook?.[4] === '@original' && method === 'DELETE') return answer(204);
    if (webhook?.[4] === '@original' && method === 'PATCH') {
      const token = webhook[2] ?? '';
      const id = this.#originals.get(token) ?? this.#nextMessageId();
      this.#originals.set(token, id);
      return answer(200, this.#message(id, this.#webhookChannelId, json, files));
    }
    if (webhook && !webhook[3] && method === 'POST') {
      return answer(200, this.#message(this.#nextMessageId(), this.#webhookChannelId, json, files));
    }
    const channelEdit = route('PATCH', /^\/channels\/(\d+)\/messages\/(\d+)$/);
    if (channelEdit) {
      return answer(200, this.#message(channelEdit[2] ?? '', channelEdit[1] ?? '', json, files));
    }
    const channelPost = route('POST', /^\/channels\/(\d+)\/messages$/);
    if (channelPost) {
      return answer(200, this.#message(this.#nextMessageId(), channelPost[1] ?? '', json, files));
    }
    if (route('PUT', /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/)) return answer(200, json);
    if (route('GET', /^\/gateway\/bot$/) && this.#gatewayUrl) {
      const limit = { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 };
      return answer(200, { url: this.#gatewayUrl, shards: 1, session_start_limit: limit });
    }
    return answer(404, { message: 'Unknown route (fake Discord)', code: 0 });
  }

  #nextMessageId(): string {
    this.#messageSeq += 1;
    return String(1_300_000_000_000_000_000n + BigInt(this.#messageSeq));
  }

  // biome-ignore lint/suspicious/noExplicitAny: echoes what the bot sent.
  #message(id: string, channelId: string, json: any, files: RecordedFile[]) {
    return {
      id,
      channel_id: channelId,
      type: 0,
      content: json?.content ?? '',
      embeds: json?.embeds ?? [],
      components: json?.components ?? [],
      attachments: files.map((file, index) => ({
        id: String(index),
        filename: file.filename,
        size: file.data.length,
        url: `https://cdn.fake/${file.filename}`,
        proxy_url: `https://cdn.fake/${file.filename}`,
      })),
      author: { id: '1', username: 'zimage', discriminator: '0', avatar: null, bot: true },
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      pinned: false,
      flags: json?.flags ?? 0,
    };
  }
}

async function parseBody(
  req: IncomingMessage,
  raw: Buffer,
): Promise<{ json: unknown; files: RecordedFile[] }> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), {
      headers: { 'content-type': type },
    }).formData();
    const files: RecordedFile[] = [];
    let json: unknown;
    for (const [field, value] of form) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = JSON.parse(value);
      } else {
        files.push({
          field,
          filename: value.name,
          contentType: value.type,
          data: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
    return { json, files };
  }
  if (type.startsWith('application/json') && raw.length > 0) {
    return { json: JSON.parse(raw.toString('utf8')), files: [] };
  }
  return { json: undefined, files: [] };
}

/**
 * The gateway's settings, from environment variables (documented in docs/operations.md,
 * "Configuration"). A bad setting stops start-up with ConfigError: one line naming the
 * variable, what it must be, and what it was (never for secrets). Empty values count as unset,
 * as `FOO=` in an env file or compose file usually means "not set".
 */
import { resolve } from 'node:path';
import { PROMPT_MAX_LENGTH } from '@zimage/core';
import { EnvError, parseSimKeys, parseSimTimeScale } from '@zimage/pixazo-sim/env';
import { z } from 'zod';
import type { UpstreamCondition } from './domain/upstream.ts';

/** MAX_PROMPT_LENGTH when unset: prompts past it are refused (core allows up to PROMPT_MAX_LENGTH). */
export const DEFAULT_MAX_PROMPT_LENGTH = 2000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type PixazoConfig =
  /** PIXAZO_API_KEY set: a real Pixazo (or a simulator running apart) at `baseUrl`. */
  | { mode: 'remote'; apiKey: string; baseUrl: string }
  /**
   * PIXAZO_API_KEY unset: a simulator started in-process; its URL is known once it listens.
   * The gateway uses the first simulator key as its own Pixazo key.
   */
  | {
      mode: 'embedded';
      apiKey: string;
      /** Accepted keys and their starting balances in USD, in the order given. */
      simKeys: Record<string, number>;
      simTimeScale: number;
    };

/** What opening the store needs (store/open-store.ts); the keys CLI reads only this. */
export interface StoreConfig {
  /** Absolute. The stored images live here, and the SQLite database when there is no databaseUrl. */
  dataDir: string;
  /** DATABASE_URL (postgres://…): the PostgreSQL store; null: SQLite in dataDir. */
  databaseUrl: string | null;
}

export interface Config extends StoreConfig {
  port: number;
  host: string;
  pixazo: PixazoConfig;
  /** Without a trailing slash; null: no webhooks, jobs are polled. */
  publicUrl: string | null;
  adminApiKey: string | null;
  /** Jobs in flight at Pixazo at once; more wait in the gateway's own queue. */
  pixazoMaxConcurrency: number;
  maxPromptLength: number;
  /** Origins allowed by CORS (`*` for any); empty: same-origin only. */
  corsOrigins: string[];
  /** GRAPHIQL: whether a browser's GET /graphql gets GraphiQL. */
  graphiql: boolean;
  logLevel: LogLevel;
  maxSubscriptionsPerSocket: number;
  /** How long new jobs are refused after Pixazo refused work; unset ones keep the engine's default. */
  upstreamCooldownMs: Partial<Record<UpstreamCondition, number>>;
  /** REDIS_URL (redis://…): set exactly when databaseUrl is (instances share both). */
  redisUrl: string | null;
  /** Prefix of every Redis key and channel, so deployments (and test runs) can share a Redis. */
  redisKeyPrefix: string;
}

export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export const DEFAULT_PIXAZO_BASE_URL = 'https://gateway.pixazo.ai';
/** REDIS_KEY_PREFIX when unset; startGateway's default too. */
export const DEFAULT_REDIS_KEY_PREFIX = 'zimage:';
export const ADMIN_API_KEY_MIN_LENGTH = 24;

type Env = Readonly<Record<string, string | undefined>>;

const integer = (min: number, max: number) => {
  const error = `must be an integer from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, { error })
    .transform(Number)
    .pipe(z.number().min(min, { error }).max(max, { error }));
};

const noSpaces = (what: string) =>
  z.string().regex(/^\S+$/, { error: `must be ${what} without spaces` });

function isHttpUrl(text: string): boolean {
  const url = URL.parse(text);
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
}

const baseUrl = z
  .string()
  .refine(
    (text) => isHttpUrl(text) && !/[?#]/.test(text),
    'must be an http(s) URL without query or fragment, like https://gateway.example.com',
  )
  .transform((text) => text.replace(/\/+$/, ''));

/** A URL of one of `schemes` (e.g. `redis:`) naming a host. */
const serverUrl = (schemes: readonly string[], example: string) =>
  z.string().refine(
    (text) => {
      const url = URL.parse(text);
      return url !== null && schemes.includes(url.protocol) && url.hostname !== '';
    },
    `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL, like ${example}`,
  );

/** `scheme://host[:port]`, what browsers send in the Origin header. */
const origin = (text: string) => text === '*' || (isHttpUrl(text) && new URL(text).origin === text);

const corsOrigins = z
  .string()
  .transform((text) => text.split(',').map((o) => o.trim().replace(/\/$/, '')))
  .refine((origins) => origins.every(origin), {
    error: 'must be a comma-separated list of origins like https://app.example.com, or *',
  });

/** A setting of the embedded simulator, parsed by the simulator's own parser. */
function simSetting<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.problem });
      return z.NEVER;
    }
  });
}

/**
 * Each variable: its schema, its default (null: stays unset) and whether its value is a
 * secret that error lines must not repeat.
 */
const VARIABLES = {
  PORT: { schema: integer(0, 65535), fallback: '4000' },
  HOST: { schema: noSpaces('a host name or IP address'), fallback: '127.0.0.1' },
  DATA_DIR: { schema: z.string().transform((dir) => resolve(dir)), fallback: './.data' },
  PIXAZO_API_KEY: { schema: noSpaces('a Pixazo subscription key'), fallback: null, secret: true },
  PIXAZO_BASE_URL: { schema: baseUrl, fallback: null },
  PUBLIC_URL: { schema: baseUrl, fallback: null },
  ADMIN_API_KEY: {
    schema: z.string().regex(new RegExp(`^\\S{${ADMIN_API_KEY_MIN_LENGTH},}$`), {
      error: (issue) =>
        `must be at least ${ADMIN_API_KEY_MIN_LENGTH} characters without spaces ` +
        `(got ${String(issue.input).length} characters)`,
    }),
    fallback: null,
    secret: true,
  },
  PIXAZO_SIM_KEYS: { schema: simSetting(parseSimKeys), fallback: 'dev-key=5', secret: true },
  PIXAZO_SIM_TIME_SCALE: { schema: simSetting(parseSimTimeScale), fallback: '1' },
  PIXAZO_MAX_CONCURRENCY: { schema: integer(1, 1000), fallback: '8' },
  MAX_PROMPT_LENGTH: {
    schema: integer(1, PROMPT_MAX_LENGTH),
    fallback: String(DEFAULT_MAX_PROMPT_LENGTH),
  },
  CORS_ORIGINS: { schema: corsOrigins, fallback: null },
  GRAPHIQL: {
    schema: z
      .string()
      .transform((text) => text.toLowerCase())
      .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
      .transform((text) => text === 'true'),
    fallback: 'true',
  },
  LOG_LEVEL: {
    schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
    fallback: 'info',
  },
  MAX_SUBSCRIPTIONS_PER_SOCKET: { schema: integer(1, 10000), fallback: '20' },
  PIXAZO_COOLDOWN_WALLET_EMPTY_SECONDS: { schema: integer(0, 86400), fallback: null },
  PIXAZO_COOLDOWN_KEY_REJECTED_SECONDS: { schema: integer(0, 86400), fallback: null },
  PIXAZO_COOLDOWN_UNREACHABLE_SECONDS: { schema: integer(0, 86400), fallback: null },
  // URLs may hold a password, so their errors never repeat them.
  DATABASE_URL: {
    schema: serverUrl(['postgres:', 'postgresql:'], 'postgres://zimage:password@db:5432/zimage'),
    fallback: null,
    secret: true,
  },
  REDIS_URL: {
    schema: serverUrl(['redis:', 'rediss:'], 'redis://redis:6379'),
    fallback: null,
    secret: true,
  },
  REDIS_KEY_PREFIX: {
    schema: z.string().regex(/^\S{1,64}$/, { error: 'must be 1 to 64 characters without spaces' }),
    fallback: DEFAULT_REDIS_KEY_PREFIX,
  },
} satisfies Record<
  string,
  { schema: z.ZodType<unknown, string>; fallback: string | null; secret?: boolean }
>;

type Variables = typeof VARIABLES;
type Name = keyof Variables;
type Value<N extends Name> = z.output<Variables[N]['schema']>;
type Read<N extends Name> = Variables[N]['fallback'] extends string ? Value<N> : Value<N> | null;

/** One variable, parsed; its default when unset or empty. */
function read<N extends Name>(env: Env, name: N): Read<N> {
  const variable: {
    schema: z.ZodType<unknown, string>;
    fallback: string | null;
    secret?: boolean;
  } = VARIABLES[name];
  const given = env[name]?.trim();
  const raw = given === undefined || given === '' ? variable.fallback : given;
  if (raw === null) return null as Read<N>;
  const result = variable.schema.safeParse(raw);
  if (result.success) return result.data as Read<N>;
  const problem = result.error.issues[0]?.message ?? 'is invalid';
  const got = variable.secret ? '' : ` (got "${raw}")`;
  throw new ConfigError(name, `${name} ${problem}${got}`);
}

/** The store's settings alone, for tools (the keys CLI) that need nothing else. */
export function loadStoreConfig(env: Env = process.env): StoreConfig {
  return { dataDir: read(env, 'DATA_DIR'), databaseUrl: read(env, 'DATABASE_URL') };
}

/**
 * The dashboard's URL, for tools (the keys CLI's sign-in links): PUBLIC_URL, else the address
 * the gateway listens on (HOST, PORT), as the gateway itself prints it.
 */
export function loadDashboardUrl(env: Env = process.env): string {
  const publicUrl = read(env, 'PUBLIC_URL');
  if (publicUrl !== null) return `${publicUrl}/`;
  const host = read(env, 'HOST');
  return `http://${host.includes(':') ? `[${host}]` : host}:${read(env, 'PORT')}/`;
}

export function loadConfig(env: Env = process.env): Config {
  const port = read(env, 'PORT');
  const host = read(env, 'HOST');
  const store = loadStoreConfig(env);
  const pixazo = loadPixazo(env);
  return {
    port,
    host,
    ...store,
    pixazo,
    publicUrl: read(env, 'PUBLIC_URL'),
    adminApiKey: read(env, 'ADMIN_API_KEY'),
    pixazoMaxConcurrency: read(env, 'PIXAZO_MAX_CONCURRENCY'),
    maxPromptLength: read(env, 'MAX_PROMPT_LENGTH'),
    corsOrigins: read(env, 'CORS_ORIGINS') ?? [],
    graphiql: read(env, 'GRAPHIQL'),
    logLevel: read(env, 'LOG_LEVEL'),
    maxSubscriptionsPerSocket: read(env, 'MAX_SUBSCRIPTIONS_PER_SOCKET'),
    upstreamCooldownMs: loadUpstreamCooldowns(env),
    ...loadRedis(env, store),
  };
}

/**
 * Instances that share PostgreSQL must share Redis too (events, rate limits) and the other way
 * round: one without the other would run instances that silently disagree.
 */
function loadRedis(env: Env, store: StoreConfig): Pick<Config, 'redisUrl' | 'redisKeyPrefix'> {
  const redisUrl = read(env, 'REDIS_URL');
  const pair = (set: Name, missing: Name) =>
    new ConfigError(
      missing,
      `${set} is set but ${missing} is not: set both to run several instances, or neither for one process on SQLite`,
    );
  if (store.databaseUrl !== null && redisUrl === null) throw pair('DATABASE_URL', 'REDIS_URL');
  if (store.databaseUrl === null && redisUrl !== null) throw pair('REDIS_URL', 'DATABASE_URL');
  return { redisUrl, redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') };
}

const COOLDOWN_VARIABLES = {
  wallet_empty: 'PIXAZO_COOLDOWN_WALLET_EMPTY_SECONDS',
  key_rejected: 'PIXAZO_COOLDOWN_KEY_REJECTED_SECONDS',
  unreachable: 'PIXAZO_COOLDOWN_UNREACHABLE_SECONDS',
} as const satisfies Record<UpstreamCondition, Name>;

function loadUpstreamCooldowns(env: Env): Config['upstreamCooldownMs'] {
  const cooldowns: Config['upstreamCooldownMs'] = {};
  for (const [condition, variable] of Object.entries(COOLDOWN_VARIABLES)) {
    const seconds = read(env, variable);
    if (seconds !== null) cooldowns[condition as UpstreamCondition] = seconds * 1000;
  }
  return cooldowns;
}

function loadPixazo(env: Env): PixazoConfig {
  const apiKey = read(env, 'PIXAZO_API_KEY');
  const baseUrl = read(env, 'PIXAZO_BASE_URL');
  const simKeys = read(env, 'PIXAZO_SIM_KEYS');
  const simTimeScale = read(env, 'PIXAZO_SIM_TIME_SCALE');
  if (apiKey !== null)
    return { mode: 'remote', apiKey, baseUrl: baseUrl ?? DEFAULT_PIXAZO_BASE_URL };
  if (baseUrl !== null) {
    // Without a key the embedded simulator runs, which would silently ignore this URL.
    throw new ConfigError(
      'PIXAZO_BASE_URL',
      'PIXAZO_BASE_URL is set but PIXAZO_API_KEY is not: set both to use that server, or neither for the embedded simulator',
    );
  }
  const [first] = simKeys;
  if (first === undefined) throw new ConfigError('PIXAZO_SIM_KEYS', 'PIXAZO_SIM_KEYS names no key');
  return { mode: 'embedded', apiKey: first[0], simKeys: Object.fromEntries(simKeys), simTimeScale };
}

/**
 * The bot's settings, from the environment. A missing or malformed variable stops start-up
 * with one line that names it and says where its value comes from, because the person reading
 * it is setting up the bot for the first time.
 */
import { statSync } from 'node:fs';
import { z } from 'zod';

const DEFAULT_DISCORD_API_URL = 'https://discord.com/api';
/** Relative to the directory the bot starts in (apps/discord-bot for `pnpm … start`). */
const DEFAULT_DATA_DIR = './.data/discord-bot';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const httpUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    error: 'must be an http(s) URL',
  });

const snowflake = z
  .string()
  .trim()
  .regex(/^\d{17,20}$/, { error: 'must be a Discord id (digits only)' });

/** The bot creates the directory when it is absent; a file there can never hold its data. */
function isDirectoryOrAbsent(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? true;
}

const count = (fallback: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int().min(0).default(fallback);

/** Where each variable comes from, for the one-line error when it is missing. */
const HINTS: Record<string, string> = {
  DISCORD_TOKEN: 'the bot token from the Discord developer portal (Bot → Reset Token)',
  DISCORD_APPLICATION_ID:
    'the Application ID from the Discord developer portal (General Information)',
  GATEWAY_URL: "the zimage gateway's base URL, e.g. http://127.0.0.1:4000",
  GATEWAY_API_KEY:
    'an API key with the generate, read and act-as scopes (pnpm --filter @zimage/gateway keys create …)',
};

const discordSchema = z.object({
  DISCORD_TOKEN: z.string().trim().min(1),
  DISCORD_APPLICATION_ID: snowflake,
  DISCORD_API_URL: httpUrl.default(DEFAULT_DISCORD_API_URL),
});

const registerSchema = discordSchema.extend({
  GATEWAY_URL: httpUrl,
  GATEWAY_API_KEY: z.string().trim().min(1),
});

const botSchema = registerSchema.extend({
  BOT_MAX_JOBS_PER_USER: count(2),
  BOT_COOLDOWN_SECONDS: count(5),
  BOT_DATA_DIR: z
    .string()
    .trim()
    .refine(isDirectoryOrAbsent, { error: 'must name a directory, and names a file' })
    .default(DEFAULT_DATA_DIR),
});

export interface DiscordConfig {
  discordToken: string;
  applicationId: string;
  /** Discord's REST base without the version, e.g. https://discord.com/api or a proxy. */
  discordApiUrl: string;
}

export interface RegisterConfig extends DiscordConfig {
  /** The gateway's base URL; GraphQL is served at `<gatewayUrl>/graphql`. */
  gatewayUrl: string;
  gatewayApiKey: string;
}

export interface BotConfig extends RegisterConfig {
  /** Jobs one Discord user may have running through the bot at once (0: no cap). */
  maxJobsPerUser: number;
  /** Seconds between two accepted /imagine requests of one user (0: none). */
  cooldownSeconds: number;
  /** Where the bot keeps the jobs it has yet to finish (its only state). */
  dataDir: string;
}

type Env = Record<string, string | undefined>;

function parse<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  // An empty variable is the same mistake as a missing one.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? 'environment');
  if (present[name] === undefined) {
    throw new ConfigError(`${name} is not set: ${HINTS[name] ?? 'required'}`);
  }
  throw new ConfigError(`${name} is invalid: ${issue?.message ?? 'unreadable value'}`);
}

function toDiscordConfig(values: z.output<typeof discordSchema>): DiscordConfig {
  return {
    discordToken: values.DISCORD_TOKEN,
    applicationId: values.DISCORD_APPLICATION_ID,
    discordApiUrl: values.DISCORD_API_URL.replace(/\/+$/, ''),
  };
}

function toRegisterConfig(values: z.output<typeof registerSchema>): RegisterConfig {
  return {
    ...toDiscordConfig(values),
    // Accept the GraphQL endpoint itself too: people paste what their other clients use.
    gatewayUrl: values.GATEWAY_URL.replace(/\/+$/, '').replace(/\/graphql$/, ''),
    gatewayApiKey: values.GATEWAY_API_KEY,
  };
}

/** What `register` needs: Discord, and the gateway whose models the commands offer. */
export function loadRegisterConfig(env: Env): RegisterConfig {
  return toRegisterConfig(parse(registerSchema, env));
}

export function loadBotConfig(env: Env): BotConfig {
  const values = parse(botSchema, env);
  return {
    ...toRegisterConfig(values),
    maxJobsPerUser: values.BOT_MAX_JOBS_PER_USER,
    cooldownSeconds: values.BOT_COOLDOWN_SECONDS,
    dataDir: values.BOT_DATA_DIR,
  };
}

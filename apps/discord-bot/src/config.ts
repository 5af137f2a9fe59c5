/**
 * The bot's settings, from the environment. A missing or malformed variable stops start-up
 * with one line that names it and says where its value comes from, because the person reading
 * it is setting up the bot for the first time.
 */
import { z } from 'zod';

const DEFAULT_DISCORD_API_URL = 'https://discord.com/api';

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

const botSchema = discordSchema.extend({
  GATEWAY_URL: httpUrl,
  GATEWAY_API_KEY: z.string().trim().min(1),
  BOT_MAX_JOBS_PER_USER: count(2),
  BOT_COOLDOWN_SECONDS: count(5),
});

export interface DiscordConfig {
  discordToken: string;
  applicationId: string;
  /** Discord's REST base without the version, e.g. https://discord.com/api or a proxy. */
  discordApiUrl: string;
}

export interface BotConfig extends DiscordConfig {
  /** The gateway's base URL; GraphQL is served at `<gatewayUrl>/graphql`. */
  gatewayUrl: string;
  gatewayApiKey: string;
  /** Jobs one Discord user may have running through the bot at once (0: no cap). */
  maxJobsPerUser: number;
  /** Seconds between two accepted /imagine requests of one user (0: none). */
  cooldownSeconds: number;
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

/** What `register` needs: talking to Discord, not to the gateway. */
export function loadDiscordConfig(env: Env): DiscordConfig {
  return toDiscordConfig(parse(discordSchema, env));
}

export function loadBotConfig(env: Env): BotConfig {
  const values = parse(botSchema, env);
  return {
    ...toDiscordConfig(values),
    // Accept the GraphQL endpoint itself too: people paste what their other clients use.
    gatewayUrl: values.GATEWAY_URL.replace(/\/+$/, '').replace(/\/graphql$/, ''),
    gatewayApiKey: values.GATEWAY_API_KEY,
    maxJobsPerUser: values.BOT_MAX_JOBS_PER_USER,
    cooldownSeconds: values.BOT_COOLDOWN_SECONDS,
  };
}

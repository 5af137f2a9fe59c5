/**
 * `pnpm --filter @zimage/discord-bot start`: the bot. A missing setting, an unusable data
 * directory, or a gateway key that cannot do the bot's work stops it with one line before it
 * connects to Discord. Jobs an earlier run left unfinished are finished first thing.
 */
import { createZimageClient, ZimageError } from '@zimage/client';
import WebSocket from 'ws';
import { downloadImage } from './attachments.ts';
import { systemClock } from './clock.ts';
import { type BotConfig, ConfigError, loadBotConfig } from './config.ts';
import { attachBot, createDiscordClient, resumeUnfinished } from './discord-adapter.ts';
import { GatewayModels } from './gateway-models.ts';
import { JobRunner } from './job-runner.ts';
import { jsonLog as log } from './log.ts';
import { UnfinishedJobs } from './unfinished-jobs.ts';
import { UserLimits } from './user-limits.ts';
import { UserSettings } from './user-settings.ts';

const REQUIRED_SCOPES = ['generate', 'read', 'act-as'];

function stop(message: string): never {
  process.stderr.write(`discord-bot: ${message}\n`);
  process.exit(1);
}

function loadConfigOrStop(): BotConfig {
  try {
    return loadBotConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) stop(error.message);
    throw error;
  }
}

function openUnfinishedJobsOrStop(dataDir: string): UnfinishedJobs {
  try {
    return UnfinishedJobs.open(dataDir);
  } catch (error) {
    stop(`BOT_DATA_DIR is unusable: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Every request would fail without these scopes: better to say so now than to each user. */
async function checkGatewayKey(
  gateway: ReturnType<typeof createZimageClient>,
  config: BotConfig,
): Promise<void> {
  try {
    const { scopes } = await gateway.viewer();
    const missing = scopes.includes('admin')
      ? []
      : REQUIRED_SCOPES.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) {
      stop(`GATEWAY_API_KEY lacks the ${missing.join(', ')} scope (it has: ${scopes.join(', ')})`);
    }
  } catch (error) {
    if (error instanceof ZimageError && error.code === 'UNAUTHENTICATED') {
      stop(`GATEWAY_API_KEY was refused by the gateway at ${config.gatewayUrl}`);
    }
    // An unreachable gateway may come up later; the bot tells users meanwhile.
    log('warn', 'gateway not reachable at start-up', {
      gateway: config.gatewayUrl,
      error: String(error),
    });
  }
}

const config = loadConfigOrStop();
const unfinished = openUnfinishedJobsOrStop(config.dataDir);
const settings = new UserSettings(unfinished.path);
const clock = systemClock;
const gateway = createZimageClient({
  url: config.gatewayUrl,
  apiKey: config.gatewayApiKey,
  webSocketImpl: WebSocket,
});
await checkGatewayKey(gateway, config);
const client = createDiscordClient(config);
const models = new GatewayModels({ fetch: () => gateway.models(), clock });
const runner = new JobRunner({
  gateway,
  models,
  downloadImage: downloadImage(),
  unfinished,
  clock,
  log,
});

attachBot({
  client,
  gateway,
  models,
  clock,
  log,
  settings,
  limits: new UserLimits({
    maxInFlight: config.maxJobsPerUser,
    cooldownSeconds: config.cooldownSeconds,
    clock,
  }),
  runner,
});

const left = unfinished.list();
if (left.length > 0) log('info', 'resuming unfinished jobs', { count: left.length });
void resumeUnfinished({ client, runner, clock, log }, left);

client.once('clientReady', (ready) => {
  log('info', 'discord-bot ready', { user: ready.user.tag, gateway: config.gatewayUrl });
});

async function shutdown(signal: string) {
  log('info', 'discord-bot stopping', { signal });
  await client.destroy();
  await gateway.close();
  settings.close();
  unfinished.close();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

await client.login(config.discordToken);

/**
 * `pnpm --filter @zimage/discord-bot start`: the bot. A missing setting, or a gateway key that
 * cannot do the bot's work, stops it with one line before it connects to Discord.
 */
import { type BotConfig, ConfigError, loadBotConfig } from './config.ts';
import { attachBot, createDiscordClient } from './discord-adapter.ts';
import { GatewayClient, GatewayRequestError } from './gateway-client.ts';
import { EtaEstimator, systemClock, UserLimits } from './imagine-service.ts';
import { JobRunner } from './job-runner.ts';
import { jsonLog as log } from './log.ts';

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

/** Every request would fail without these scopes: better to say so now than to each user. */
async function checkGatewayKey(gateway: GatewayClient, config: BotConfig): Promise<void> {
  try {
    const scopes = await gateway.keyScopes();
    const missing = scopes.includes('admin')
      ? []
      : REQUIRED_SCOPES.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) {
      stop(`GATEWAY_API_KEY lacks the ${missing.join(', ')} scope (it has: ${scopes.join(', ')})`);
    }
  } catch (error) {
    if (error instanceof GatewayRequestError && error.code === 'UNAUTHENTICATED') {
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
const clock = systemClock;
const gateway = new GatewayClient({ url: config.gatewayUrl, apiKey: config.gatewayApiKey });
await checkGatewayKey(gateway, config);
const client = createDiscordClient(config);

attachBot({
  client,
  gateway,
  clock,
  log,
  limits: new UserLimits({
    maxInFlight: config.maxJobsPerUser,
    cooldownSeconds: config.cooldownSeconds,
    clock,
  }),
  runner: new JobRunner({ gateway, clock, eta: new EtaEstimator(), log }),
});

client.once('clientReady', (ready) => {
  log('info', 'discord-bot ready', { user: ready.user.tag, gateway: config.gatewayUrl });
});

async function shutdown(signal: string) {
  log('info', 'discord-bot stopping', { signal });
  await client.destroy();
  await gateway.close();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

await client.login(config.discordToken);

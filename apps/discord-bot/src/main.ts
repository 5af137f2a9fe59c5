/**
 * `pnpm --filter @zimage/discord-bot start`: the bot. A missing setting stops it with one line
 * before anything connects.
 */
import { ConfigError, loadBotConfig } from './config.ts';
import { attachBot, createDiscordClient } from './discord-adapter.ts';
import { GatewayClient } from './gateway-client.ts';
import { EtaEstimator, systemClock, UserLimits } from './imagine-service.ts';
import { JobRunner } from './job-runner.ts';
import { jsonLog as log } from './log.ts';

function loadConfigOrExit() {
  try {
    return loadBotConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`discord-bot: ${error.message}\n`);
    process.exit(1);
  }
}

const config = loadConfigOrExit();
const clock = systemClock;
const gateway = new GatewayClient({ url: config.gatewayUrl, apiKey: config.gatewayApiKey });
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

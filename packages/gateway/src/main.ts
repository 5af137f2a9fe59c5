/**
 * `pnpm start`: the gateway from the environment (docs/operations.md, "Configuration"). Without
 * PIXAZO_API_KEY the Pixazo simulator runs in this process, on a random loopback port, and
 * plays Pixazo; it is imported only then, so a production start never loads it. SIGINT and
 * SIGTERM shut down gracefully: stop accepting, let submits in flight finish, close sockets
 * with 1001, close the store.
 */
import type { PixazoSim } from '@zimage/pixazo-sim';
import { dashboardSignInUrl } from './auth/api-keys.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startGateway } from './gateway.ts';
import { createLogger } from './logger.ts';

function loadConfigOrExit() {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`zimage gateway: ${error.message}`);
    process.exit(1);
  }
}

const config = loadConfigOrExit();
const logger = createLogger({ level: config.logLevel });

let sim: PixazoSim | null = null;
let pixazoBaseUrl: string;
if (config.pixazo.mode === 'embedded') {
  const { startPixazoSim } = await import('@zimage/pixazo-sim');
  sim = await startPixazoSim({
    host: '127.0.0.1',
    port: 0,
    keys: config.pixazo.simKeys,
    timeScale: config.pixazo.simTimeScale,
  });
  pixazoBaseUrl = sim.url;
  logger.info(
    { url: sim.url },
    'PIXAZO_API_KEY is unset: the embedded Pixazo simulator plays Pixazo',
  );
} else {
  pixazoBaseUrl = config.pixazo.baseUrl;
}
const pixazo = { baseUrl: pixazoBaseUrl, apiKey: config.pixazo.apiKey };

let gateway: Awaited<ReturnType<typeof startGateway>>;
try {
  gateway = await startGateway({
    pixazo,
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    port: config.port,
    host: config.host,
    publicUrl: config.publicUrl,
    adminApiKey: config.adminApiKey,
    corsOrigins: config.corsOrigins,
    graphiql: config.graphiql,
    maxSubscriptionsPerSocket: config.maxSubscriptionsPerSocket,
    maxPromptLength: config.maxPromptLength,
    pixazoMaxConcurrency: config.pixazoMaxConcurrency,
    engine: {
      instances: config.instances,
      upstreamHealth: { cooldownMs: config.upstreamCooldownMs },
      // The simulator runs its jobs this much faster; the polls follow its pace.
      durationScale: config.pixazo.mode === 'embedded' ? config.pixazo.simTimeScale : 1,
    },
    webhooks: config.webhooks,
    imageStore: config.imageStore,
    imageRetention:
      config.imageRetentionDays === null
        ? null
        : { retentionMs: config.imageRetentionDays * 24 * 60 * 60 * 1000 },
    logger,
  });
} catch (error) {
  // e.g. the port is taken, or ADMIN_API_KEY names a revoked key: one line, not a stack.
  console.error(`zimage gateway: ${error instanceof Error ? error.message : String(error)}`);
  await sim?.close();
  process.exit(1);
}

let shuttingDown = false;
const shutdown = async (signal: string) => {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  try {
    await gateway.close();
    await sim?.close();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
};
// Before the start-up lines: whoever reads them as "ready" may stop the gateway at once.
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

const dashboardUrl = `${gateway.publicUrl}/`;
if (gateway.adminKeyGenerated && gateway.adminKey) {
  // The only time this secret is ever shown; it is stored hashed.
  console.log(
    `\nAn admin API key was generated (shown once, keep it):\n  ${gateway.adminKey}\n` +
      `Open the dashboard signed in:\n  ${dashboardSignInUrl(dashboardUrl, gateway.adminKey)}\n`,
  );
}
console.log(`zimage gateway: dashboard at ${dashboardUrl}  (GraphQL at ${dashboardUrl}graphql)`);

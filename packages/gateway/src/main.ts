/**
 * `pnpm start`: the gateway from the environment (docs/operations.md, "Configuration"). Without
 * PIXAZO_API_KEY the Pixazo simulator runs in this process, on a random loopback port, and
 * plays Pixazo. SIGINT/SIGTERM shut down gracefully: stop accepting, let submits in flight
 * finish, close sockets with 1001, close the store.
 */
import { type PixazoSim, startPixazoSim } from '@zimage/pixazo-sim';
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

/** The address to print: a wildcard listen address is not one a browser can open. */
function browsableUrl(url: string): string {
  const parsed = new URL(url);
  if (['0.0.0.0', '[::]'].includes(parsed.hostname)) parsed.hostname = 'localhost';
  return parsed.origin;
}

const config = loadConfigOrExit();
const logger = createLogger({ level: config.logLevel });

let sim: PixazoSim | null = null;
let pixazoBaseUrl: string;
if (config.pixazo.mode === 'embedded') {
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
    port: config.port,
    host: config.host,
    publicUrl: config.publicUrl,
    adminApiKey: config.adminApiKey,
    corsOrigins: config.corsOrigins,
    maxSubscriptionsPerSocket: config.maxSubscriptionsPerSocket,
    maxPromptLength: config.maxPromptLength,
    pixazoMaxConcurrency: config.pixazoMaxConcurrency,
    engine: { upstreamHealth: { cooldownMs: config.upstreamCooldownMs } },
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

const dashboardUrl = `${config.publicUrl ?? browsableUrl(gateway.url)}/`;
if (gateway.adminKeyGenerated && gateway.adminKey) {
  // The only time this secret is ever shown; it is stored hashed.
  console.log(
    `\nAn admin API key was generated (shown once, keep it):\n  ${gateway.adminKey}\n` +
      `Open the dashboard signed in:\n  ${dashboardSignInUrl(dashboardUrl, gateway.adminKey)}\n`,
  );
}
console.log(`zimage gateway: dashboard at ${dashboardUrl}  (GraphQL at ${dashboardUrl}graphql)`);

/**
 * The real gateway in this process, on the Pixazo simulator (fast time scale), with an act-as
 * key for the bot as `docs/discord-bot.md` creates it.
 */
import { createApiKey, createLogger, type Limits, type Scope, startGateway } from '@zimage/gateway';
import { startPixazoSim } from '@zimage/pixazo-sim';

const SIM_KEY = 'dev-key';

export interface RealGateway {
  url: string;
  /** A new key (the bot's scopes by default) with these per-end-user limits (none by default). */
  botKey(endUserLimits?: Partial<Limits>, scopes?: Scope[]): Promise<string>;
  close(): Promise<void>;
}

export async function startRealGateway(timeScale = 0.02): Promise<RealGateway> {
  const sim = await startPixazoSim({ timeScale, rateLimit: false, keys: { [SIM_KEY]: 100 } });
  const gateway = await startGateway({
    pixazo: { baseUrl: sim.url, apiKey: SIM_KEY },
    logger: createLogger({ level: 'silent' }),
    engine: {
      pollSchedule: { firstDelayMs: 20, factor: 1.5, minIntervalMs: 10, maxIntervalMs: 50 },
    },
  });
  return {
    url: gateway.url,
    async botKey(endUserLimits = {}, scopes = ['generate', 'read', 'act-as']) {
      const { secret } = await createApiKey(gateway.store, {
        name: 'discord-bot',
        scopes,
        endUserLimits: {
          dailyBudgetMicroUsd: null,
          maxConcurrentJobs: null,
          requestsPerMinute: null,
          ...endUserLimits,
        },
      });
      return secret;
    },
    async close() {
      await gateway.close();
      await sim.close();
    },
  };
}

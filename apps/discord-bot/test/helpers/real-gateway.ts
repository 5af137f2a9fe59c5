/**
 * The real gateway in this process, on the Pixazo simulator (fast time scale), with an act-as
 * key for the bot as `docs/discord-bot.md` creates it, and a way to hold every job where it
 * is: while held, the simulator answers the gateway's status reads with a 429 whose
 * Retry-After is too long to wait out, so no job moves on until released.
 */
import {
  createApiKey,
  createLogger,
  type Limits,
  type Scope,
  type StartGatewayOptions,
  startGateway,
} from '@zimage/gateway';
import { startPixazoSim } from '@zimage/pixazo-sim';

const SIM_KEY = 'dev-key';

export interface RealGateway {
  url: string;
  /** A new key (the bot's scopes by default) with these per-end-user limits (none by default). */
  botKey(endUserLimits?: Partial<Limits>, scopes?: Scope[]): Promise<string>;
  holdJobs(): void;
  releaseJobs(): void;
  close(): Promise<void>;
}

export async function startRealGateway(
  options: Pick<StartGatewayOptions, 'maxPromptLength'> = {},
): Promise<RealGateway> {
  const sim = await startPixazoSim({ timeScale: 0.02, rateLimit: false, keys: { [SIM_KEY]: 100 } });
  const gateway = await startGateway({
    ...options,
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
    holdJobs: () =>
      sim.setFaults({ rateLimit: { probability: 1, route: 'status', retryAfterSeconds: 3600 } }),
    releaseJobs: () => sim.setFaults({ rateLimit: null }),
    async close() {
      await gateway.close();
      await sim.close();
    },
  };
}

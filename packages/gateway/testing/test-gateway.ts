/**
 * For the tests of the gateway's clients (@zimage/client, the Discord bot): the real gateway in
 * the test's process on the Pixazo simulator (small time scale), keys made per test, and a way
 * to hold every job where it is: while held, the simulator answers the gateway's status reads
 * with a 429 whose Retry-After is too long to wait out, so no job moves on, and the gateway's
 * next poll (every 50 ms or so) sees the truth once released.
 */
import { type PixazoSim, startPixazoSim } from '@zimage/pixazo-sim';
import {
  createApiKey,
  createLogger,
  type Limits,
  type RunningGateway,
  type Scope,
  type StartGatewayOptions,
  startGateway,
} from '../src/index.ts';

const SIM_KEY = 'dev-key';
const DEFAULT_SCOPES: Scope[] = ['generate', 'read', 'act-as'];

const NO_LIMITS: Limits = {
  dailyBudgetMicroUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
};

export interface TestKeyOptions {
  name?: string;
  /** Default: generate, read, act-as (what the bot and most third parties hold). */
  scopes?: Scope[];
  limits?: Partial<Limits>;
  endUserLimits?: Partial<Limits>;
}

export interface TestGateway {
  url: string;
  gateway: RunningGateway;
  sim: PixazoSim;
  /** A new key's secret; no limits unless given. */
  key(options?: TestKeyOptions): Promise<string>;
  holdJobs(): void;
  releaseJobs(): void;
  close(): Promise<void>;
}

export async function startTestGateway(
  options: Pick<StartGatewayOptions, 'maxPromptLength'> = {},
): Promise<TestGateway> {
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
    gateway,
    sim,
    async key({ name = 'test', scopes = DEFAULT_SCOPES, limits = {}, endUserLimits = {} } = {}) {
      const { secret } = await createApiKey(gateway.store, {
        name,
        scopes,
        limits: { ...NO_LIMITS, ...limits },
        endUserLimits: { ...NO_LIMITS, ...endUserLimits },
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

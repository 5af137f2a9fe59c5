/**
 * The real gateway in this process on the Pixazo simulator (small time scale), with keys made
 * for each test, and a way to hold every job where it is: while held, the simulator answers
 * the gateway's status reads with a 429 whose Retry-After is too long to wait out, so no job
 * moves on, and the gateway's next poll (every 50 ms or so) sees the truth once released.
 */
import {
  createApiKey,
  createLogger,
  type Limits,
  type RunningGateway,
  type Scope,
  startGateway,
} from '@zimage/gateway';
import { type PixazoSim, startPixazoSim } from '@zimage/pixazo-sim';

const SIM_KEY = 'dev-key';

const NO_LIMITS: Limits = {
  dailyBudgetMicroUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
};

export interface TestGateway {
  url: string;
  gateway: RunningGateway;
  sim: PixazoSim;
  key(options?: { scopes?: Scope[]; limits?: Partial<Limits> }): Promise<string>;
  holdJobs(): void;
  releaseJobs(): void;
  close(): Promise<void>;
}

export async function startTestGateway(): Promise<TestGateway> {
  const sim = await startPixazoSim({ timeScale: 0.02, rateLimit: false, keys: { [SIM_KEY]: 100 } });
  const gateway = await startGateway({
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
    async key({ scopes = ['generate', 'read', 'act-as'] as Scope[], limits = {} } = {}) {
      const { secret } = await createApiKey(gateway.store, {
        name: 'client-test',
        scopes,
        limits: { ...NO_LIMITS, ...limits },
        endUserLimits: NO_LIMITS,
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

/**
 * The real thing, in this process: the Pixazo simulator, the gateway serving apps/web/dist, and
 * a cuttable link in front of the gateway for the browser.
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createApiKey, createLogger, type Limits, type Scope, startGateway } from '@zimage/gateway';
import { startPixazoSim } from '@zimage/pixazo-sim';
import { createClient } from 'graphql-ws';
import { type CuttableProxy, startCuttableProxy } from './cuttable-proxy.ts';

const SIM_KEY = 'dev-key';
export const DIST_DIR = resolve(import.meta.dirname, '../../../dist');

const NO_LIMITS: Limits = {
  dailyBudgetMicroUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
};

export interface Stack {
  /** The dashboard's address, through the cuttable link. */
  url: string;
  link: CuttableProxy;
  /** A new key with the generate and read scopes unless given; no limits unless given. */
  createKey(name: string, limits?: Partial<Limits>, scopes?: Scope[]): Promise<string>;
  /**
   * Resolves once the gateway itself (not through the link) has the job in `status`, following
   * its jobUpdated subscription: its state at once, then each change.
   */
  jobReaches(key: string, jobId: string, status: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * `timeScale` stretches the simulator's job durations: at 0.5 a Turbo job of 8 steps takes about
 * 1.4 s and one of 50 steps about 6.6 s, long enough to reload or cut the link in its middle.
 * `pixazoMaxConcurrency` (the gateway's default unless given) set to 1 keeps a second job in the
 * gateway's own queue while the first runs.
 */
export async function startStack(
  timeScale = 0.5,
  options: { pixazoMaxConcurrency?: number } = {},
): Promise<Stack> {
  await access(resolve(DIST_DIR, 'index.html')).catch(() => {
    throw new Error(`${DIST_DIR} is missing: run pnpm --filter @zimage/web build first`);
  });
  const sim = await startPixazoSim({ timeScale, rateLimit: false, keys: { [SIM_KEY]: 100 } });
  const gateway = await startGateway({
    pixazo: { baseUrl: sim.url, apiKey: SIM_KEY },
    dashboardDir: DIST_DIR,
    ...options,
    logger: createLogger({ level: 'silent' }),
    engine: {
      pollSchedule: { firstDelayMs: 50, factor: 1.5, minIntervalMs: 50, maxIntervalMs: 200 },
    },
  });
  const link = await startCuttableProxy(new URL(gateway.url));
  return {
    url: link.url,
    link,
    async createKey(name, limits = {}, scopes = ['generate', 'read']) {
      const { secret } = await createApiKey(gateway.store, {
        name,
        scopes,
        limits: { ...NO_LIMITS, ...limits },
      });
      return secret;
    },
    async jobReaches(key, jobId, status) {
      const client = createClient({
        url: `${gateway.url.replace(/^http/, 'ws')}/graphql`,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
      });
      try {
        const updates = client.iterate<{ jobUpdated: { status: string } }>({
          query: 'subscription ($id: ID!) { jobUpdated(id: $id) { status } }',
          variables: { id: jobId },
        });
        for await (const { data, errors } of updates) {
          if (errors) throw new Error(`jobUpdated failed: ${JSON.stringify(errors)}`);
          if (data?.jobUpdated.status === status) return;
        }
        throw new Error(`job ${jobId} ended without reaching ${status}`);
      } finally {
        await client.dispose();
      }
    },
    async close() {
      await link.close();
      await gateway.close();
      await sim.close();
    },
  };
}

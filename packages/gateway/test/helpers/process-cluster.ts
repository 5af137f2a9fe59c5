/**
 * Gateway processes (`pnpm start`'s entry point) on one PostgreSQL database and one Redis
 * prefix, with the simulator in a process of its own as Pixazo: the settings they share, a data
 * directory they share (as a deployment shares a volume), and the clean-up of every process,
 * the directory and the prefix's keys when the test file ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type TestDatabase, usePostgresDatabase } from './postgres.ts';
import { type RunningProcess, startProcess, stopProcess } from './processes.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testKeyPrefix } from './redis.ts';
import type { SimProcess } from './sim-process.ts';

export interface ProcessClusterOptions {
  /** Names the data directory. */
  name: string;
  adminApiKey: string;
  /** The simulator's key the gateways send. */
  pixazoKey: string;
  startSim: () => Promise<SimProcess>;
}

export interface ProcessCluster {
  readonly database: TestDatabase;
  readonly keyPrefix: string;
  /** Set once the file's tests start. */
  readonly sim: SimProcess;
  readonly dataDir: string;
  /** A gateway process: the shared settings, with `env` on top. */
  startGateway(env?: Record<string, string>): RunningProcess;
}

export function useProcessCluster(options: ProcessClusterOptions): ProcessCluster {
  const database = usePostgresDatabase();
  const keyPrefix = testKeyPrefix();
  const processes: RunningProcess[] = [];
  let sim: SimProcess | undefined;
  let dataDir: string | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the cluster starts in beforeAll');
    return value;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), `zimage-${options.name}-`));
    sim = await options.startSim();
    processes.push(sim.run);
  });

  afterAll(async () => {
    await Promise.all(processes.map((run) => stopProcess(run.child)));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    const redis = await connectTestRedis();
    await deleteKeys(redis, keyPrefix);
    await redis.quit();
  });

  return {
    database,
    keyPrefix,
    get sim() {
      return started(sim);
    },
    get dataDir() {
      return started(dataDir);
    },
    startGateway(env = {}) {
      const run = startProcess('src/main.ts', {
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: started(dataDir),
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: keyPrefix,
        PIXAZO_API_KEY: options.pixazoKey,
        PIXAZO_BASE_URL: started(sim).url,
        ADMIN_API_KEY: options.adminApiKey,
        ...env,
      });
      processes.push(run);
      return run;
    },
  };
}

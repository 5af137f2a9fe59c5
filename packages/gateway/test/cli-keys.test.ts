import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../src/auth/api-keys.ts';
import type { StoreConfig } from '../src/config.ts';
import { openStore } from '../src/store/open-store.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';

/** Node 24 from the workspace root (a bare `node` on PATH may be older). */
const NODE = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/keys.ts', import.meta.url));

const postgres = usePostgresDatabase();

/** The CLI's database: SQLite in a new DATA_DIR, or a new PostgreSQL schema by DATABASE_URL. */
const DATABASES = {
  SQLite: async (): Promise<StoreConfig> => ({
    dataDir: mkdtempSync(join(tmpdir(), 'zimage-keys-')),
    databaseUrl: null,
  }),
  PostgreSQL: async (): Promise<StoreConfig> => ({
    dataDir: mkdtempSync(join(tmpdir(), 'zimage-keys-')),
    databaseUrl: await postgres.freshSchema(),
  }),
};

/** Each CLI run boots a Node process, which takes seconds on a busy machine. */
const SPAWNING = { timeout: 30_000 };

describe.each(Object.entries(DATABASES))('keys CLI on %s', SPAWNING, (_, database) => {
  let config: StoreConfig;

  beforeEach(async () => {
    config = await database();
  });

  afterEach(() => {
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  const keys = (...args: string[]) => {
    const result = spawnSync(NODE, [CLI, ...args], {
      env: {
        ...process.env,
        DATA_DIR: config.dataDir,
        ...(config.databaseUrl === null ? {} : { DATABASE_URL: config.databaseUrl }),
      },
      encoding: 'utf8',
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  const storedKeys = async () => {
    const store = await openStore(config);
    try {
      return await store.listApiKeys();
    } finally {
      await store.close();
    }
  };

  it('creates a key with limits and prints its secret once', async () => {
    const created = keys(
      'create',
      '--name',
      'discord bot',
      '--scopes',
      'generate,read,act-as',
      '--daily-budget-usd',
      '20.5',
      '--max-concurrent',
      '8',
      '--rpm',
      '120',
      '--end-user-daily-budget-usd',
      '0.000001',
      '--end-user-max-concurrent',
      '2',
      '--end-user-rpm',
      '10',
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const secret = /^secret +(zk_\S+)$/m.exec(created.stdout)?.[1];
    const id = /^id +(key_\S+)$/m.exec(created.stdout)?.[1];

    const [key] = await storedKeys();
    expect(key).toMatchObject({
      id,
      name: 'discord bot',
      secretHash: hashSecret(secret ?? ''),
      scopes: ['generate', 'read', 'act-as'],
      limits: { dailyBudgetMicroUsd: 20_500_000, maxConcurrentJobs: 8, requestsPerMinute: 120 },
      endUserLimits: { dailyBudgetMicroUsd: 1, maxConcurrentJobs: 2, requestsPerMinute: 10 },
    });

    const listed = keys('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(key?.id);
    expect(listed.stdout).toContain(key?.prefix);
    expect(listed.stdout).toContain('$20.50/day, 8 jobs, 120/min; per end user $0.000001/day');
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(key?.secretHash);
  });

  it('lists nothing on a new data directory', () => {
    expect(keys('list')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^No API keys yet/),
    });
  });

  it('revokes a key once', async () => {
    keys('create', '--name', 'temp', '--scopes', 'read');
    const [key] = await storedKeys();

    expect(keys('revoke', key?.id ?? '')).toMatchObject({
      code: 0,
      stdout: `Revoked ${key?.id}.\n`,
    });
    expect((await storedKeys())[0]?.revokedAt).toBeInstanceOf(Date);
    expect(keys('revoke', key?.id ?? '')).toMatchObject({
      code: 1,
      stderr: `error: ${key?.id} was already revoked\n`,
    });
    expect(keys('revoke', 'key_missing')).toMatchObject({
      code: 1,
      stderr: 'error: no API key has id key_missing\n',
    });
  });
});

describe('keys CLI', SPAWNING, () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'zimage-keys-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  const keys = (...args: string[]) => {
    const result = spawnSync(NODE, [CLI, ...args], {
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it.each([
    [['create', '--scopes', 'read'], 'error: --name is required'],
    [['create', '--name', 'x'], 'error: --scopes is required (e.g. --scopes generate,read)'],
    [
      ['create', '--name', 'x', '--scopes', 'read,root'],
      'error: --scopes takes generate, read, admin, act-as (got "root")',
    ],
    [
      ['create', '--name', 'x', '--scopes', 'read', '--daily-budget-usd', '1.0000001'],
      'error: --daily-budget-usd must be an amount in USD with at most 6 decimals (got "1.0000001")',
    ],
    [
      ['create', '--name', 'x', '--scopes', 'read', '--end-user-rpm', '0'],
      'error: --end-user-rpm must be a whole number ≥ 1 (got "0")',
    ],
    [
      ['create', '--name', ' ', '--scopes', 'read'],
      'error: --name: A key name must be 1 to 100 characters',
    ],
    [
      ['create', '--name', 'x', '--scopes', 'read', '--budget', '1'],
      "error: Unknown option '--budget'",
    ],
    [['list', '--name', 'x'], 'error: --name only applies to create'],
    [['list', 'extra'], 'error: unexpected argument "extra"'],
    [['revoke'], 'error: revoke needs a key id (see: keys list)'],
    [['remove', 'key_1'], 'error: unknown command "remove" (expected create, list or revoke)'],
  ])('refuses %j with one line and exit code 2', (args, line) => {
    expect(keys(...args)).toMatchObject({ code: 2, stdout: '', stderr: `${line}\n` });
  });

  it('ignores settings it does not use, such as a bad PORT', () => {
    const result = spawnSync(NODE, [CLI, 'list'], {
      env: { ...process.env, DATA_DIR: dataDir, PORT: 'not a port' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
  });

  it('prints usage', () => {
    expect(keys('--help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('keys create'),
    });
    expect(keys()).toMatchObject({ code: 2, stderr: expect.stringContaining('keys create') });
  });
});

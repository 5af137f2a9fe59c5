import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../src/auth/api-keys.ts';
import type { StoreConfig } from '../src/config.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { DAY, newJob, storedKey } from './fixtures/records.ts';
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
        PUBLIC_URL: 'https://images.example.com',
        ...(config.databaseUrl === null ? {} : { DATABASE_URL: config.databaseUrl }),
      },
      encoding: 'utf8',
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  /** Runs `work` on the CLI's database, as a gateway beside it would. */
  const onStore = async <T>(work: (store: Store) => Promise<T>): Promise<T> => {
    const store = await openStore(config);
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };
  const storedKeys = () => onStore((store) => store.listApiKeys());

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
    expect(created.stdout).toContain(`\nsign-in  https://images.example.com/#key=${secret}\n`);
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

  it('creates a key with the new limits, changes them with set-limits, and logs both', async () => {
    const created = keys(
      'create',
      ...['--name', 'friend', '--scopes', 'generate', '--daily-budget-usd', '2'],
      ...['--monthly-budget-usd', '30.25', '--allowed-models', 'turbo,turbo'],
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const [key] = await storedKeys();
    expect(key?.limits).toEqual({
      dailyBudgetMicroUsd: 2_000_000,
      monthlyBudgetMicroUsd: 30_250_000,
      maxConcurrentJobs: null,
      requestsPerMinute: null,
      allowedModels: ['turbo'],
    });
    const id = key?.id ?? '';

    // none clears a limit, all allows every model, an absent flag keeps its limit.
    const changed = keys(
      'set-limits',
      id,
      ...['--daily-budget-usd', 'none', '--allowed-models', 'all', '--end-user-rpm', '5'],
    );
    expect(changed).toMatchObject({
      code: 0,
      stdout: `Limits of ${id} ("friend"): $30.25/month; per end user 5/min.\n`,
    });
    const [after] = await storedKeys();
    expect(after?.limits).toEqual({
      dailyBudgetMicroUsd: null,
      monthlyBudgetMicroUsd: 30_250_000,
      maxConcurrentJobs: null,
      requestsPerMinute: null,
      allowedModels: null,
    });
    expect(after?.endUserLimits.requestsPerMinute).toBe(5);
    expect(keys('list').stdout).toContain('$30.25/month; per end user 5/min');

    expect(keys('set-limits', 'key_missing', '--rpm', '1')).toMatchObject({
      code: 1,
      stderr: 'error: no API key has id key_missing\n',
    });
    keys('revoke', id);

    const { entries } = await onStore((store) => store.listAuditLog(10));
    expect(entries.map((entry) => [entry.action, entry.apiKeyId, entry.actor.keyId])).toEqual([
      ['revoke_api_key', id, null],
      ['update_api_key_limits', id, null],
      ['create_api_key', id, null],
    ]);
    expect(entries[0]?.actor.label).toMatch(/^keys CLI \(.+@.+\)$/);
    expect(entries[1]?.details).toEqual({
      dailyBudgetMicroUsd: { from: 2_000_000, to: null },
      endUserRequestsPerMinute: { from: null, to: 5 },
      allowedModels: { from: ['turbo'], to: null },
    });
  });

  it('prints the usage report of the ledger, refunds included', async () => {
    const key = await onStore(async (store) => {
      const bot = await storedKey(store, { name: 'bot', scopes: ['generate', 'act-as'] });
      const admit = (job: ReturnType<typeof newJob>) =>
        store.admitJob({ job, day: DAY, keyLimits: bot.limits, endUserLimits: null });
      await admit(newJob(bot));
      await admit(
        newJob(bot, { endUserId: 'alice', model: 'base', numImages: 2, costMicroUsd: 20_000 }),
      );
      const refunded = newJob(bot, { endUserId: 'bob' });
      await admit(refunded);
      await store.updateJob(refunded.id, 1, { status: 'ERROR', costMicroUsd: 0 });
      return bot;
    });

    const byModel = keys('usage', '--from', DAY, '--to', '2025-06-30', '--group-by', 'key,model');
    expect(byModel).toMatchObject({ code: 0, stderr: '' });
    expect(byModel.stdout.split('\n')).toEqual([
      expect.stringMatching(/^MODEL +KEY +JOBS +IMAGES +COST$/),
      expect.stringMatching(new RegExp(`^base +${key.id} \\(bot\\) +1 +2 +\\$0\\.02$`)),
      expect.stringMatching(new RegExp(`^turbo +${key.id} \\(bot\\) +1 +1 +\\$0\\.008$`)),
      'Total $0.028 from 2025-06-01 to 2025-06-30 (UTC), refunds included.',
      '',
    ]);
    const byUser = keys('usage', '--from', DAY, '--to', DAY, '--group-by', 'end-user');
    expect(byUser.stdout).toMatch(/^alice +1 +2 +\$0\.02$/m);
    expect(byUser.stdout).toMatch(/^\(the key itself\) +1 +1 +\$0\.008$/m);
    expect(byUser.stdout).not.toContain('bob');
    expect(keys('usage', '--from', '2025-07-01', '--to', '2025-07-31')).toMatchObject({
      code: 0,
      stdout: 'No charged jobs from 2025-07-01 to 2025-07-31.\n',
    });
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
    [['list', '--rpm', '1'], 'error: --rpm only applies to create and set-limits'],
    [['set-limits'], 'error: set-limits needs a key id (see: keys list)'],
    [['set-limits', 'key_1'], 'error: set-limits needs at least one limit (see: keys --help)'],
    [
      ['set-limits', 'key_1', '--allowed-models', 'turbo,huge'],
      'error: --allowed-models takes turbo, base or all (got "huge")',
    ],
    [
      ['usage', '--from', '2025-02-30'],
      'error: --from must be a UTC day as YYYY-MM-DD (got "2025-02-30")',
    ],
    [
      ['usage', '--from', '2025-03-02', '--to', '2025-03-01'],
      'error: --to: to must be the same day as from or later',
    ],
    [
      ['usage', '--group-by', 'week'],
      'error: --group-by takes day, model, key, end-user (got "week")',
    ],
    [['list', 'extra'], 'error: unexpected argument "extra"'],
    [['revoke'], 'error: revoke needs a key id (see: keys list)'],
    [
      ['remove', 'key_1'],
      'error: unknown command "remove" (expected create, list, set-limits, revoke or usage)',
    ],
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

/**
 * API key administration on the gateway's own database:
 *   pnpm --filter @zimage/gateway keys create --name NAME --scopes generate,read [limits]
 *   pnpm --filter @zimage/gateway keys list
 *   pnpm --filter @zimage/gateway keys revoke KEY_ID
 * Works while the gateway runs, on the database it uses (DATABASE_URL, else SQLite in
 * DATA_DIR); a revocation reaches it within seconds (its key cache). Exit codes: 0 done, 1 failed (e.g. no such key), 2 bad usage or setting.
 */
import { parseArgs } from 'node:util';
import { createApiKey } from '../auth/api-keys.ts';
import { ConfigError, loadStoreConfig } from '../config.ts';
import { formatUsd, parseUsd } from '../domain/money.ts';
import { type ApiKeyRecord, type Limits, SCOPES, type Scope } from '../domain/principal.ts';
import { GatewayError } from '../errors.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';

const USAGE = `Usage:
  keys create --name NAME --scopes SCOPE[,SCOPE...] [limits]
  keys list
  keys revoke KEY_ID

Scopes: ${SCOPES.join(', ')} (admin implies all others).
Limits (optional; unset means no limit):
  --daily-budget-usd USD            spending per UTC day, for the whole key
  --max-concurrent N                jobs in flight at once, for the whole key
  --rpm N                           requests per minute, for the whole key
  --end-user-daily-budget-usd USD   the same, per end user the key acts for (act-as)
  --end-user-max-concurrent N
  --end-user-rpm N

The database is PostgreSQL at $DATABASE_URL when set, else $DATA_DIR/zimage.db
(DATA_DIR defaults to ./.data).`;

/** A mistake in the command line: reported as one line, exit code 2. */
class UsageError extends Error {}

const LIMIT_FLAGS = {
  'daily-budget-usd': { type: 'string' },
  'max-concurrent': { type: 'string' },
  rpm: { type: 'string' },
  'end-user-daily-budget-usd': { type: 'string' },
  'end-user-max-concurrent': { type: 'string' },
  'end-user-rpm': { type: 'string' },
} as const;

type Flags = Partial<Record<keyof typeof LIMIT_FLAGS | 'name' | 'scopes', string>>;

interface CommandLine {
  command: string | undefined;
  rest: string[];
  flags: Flags;
  help: boolean;
}

function parseCommandLine(args: string[]): CommandLine {
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        name: { type: 'string' },
        scopes: { type: 'string' },
        ...LIMIT_FLAGS,
      },
    });
    const { help = false, ...flags } = values;
    const [command, ...rest] = positionals;
    return { command, rest, flags, help };
  } catch (error) {
    // parseArgs explains at length how to pass positionals starting with '-'; the first
    // sentence ("Unknown option '--foo'") is the part that helps here.
    throw new UsageError((error as Error).message.split('. ')[0]);
  }
}

function usdFlag(flags: Flags, flag: keyof typeof LIMIT_FLAGS): number | null {
  const text = flags[flag];
  if (text === undefined) return null;
  const microUsd = parseUsd(text);
  if (microUsd === null) {
    throw new UsageError(
      `--${flag} must be an amount in USD with at most 6 decimals (got "${text}")`,
    );
  }
  return microUsd;
}

function countFlag(flags: Flags, flag: keyof typeof LIMIT_FLAGS): number | null {
  const text = flags[flag];
  if (text === undefined) return null;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${flag} must be a whole number ≥ 1 (got "${text}")`);
  }
  return Number(text);
}

function scopesFlag(text: string | undefined): Scope[] {
  if (text === undefined)
    throw new UsageError('--scopes is required (e.g. --scopes generate,read)');
  const scopes = text.split(',').map((s) => s.trim());
  const unknown = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined) {
    throw new UsageError(`--scopes takes ${SCOPES.join(', ')} (got "${unknown}")`);
  }
  return scopes as Scope[];
}

async function create(store: Store, flags: Flags): Promise<number> {
  if (flags.name === undefined) throw new UsageError('--name is required');
  const scopes = scopesFlag(flags.scopes);
  const limits: Limits = {
    dailyBudgetMicroUsd: usdFlag(flags, 'daily-budget-usd'),
    maxConcurrentJobs: countFlag(flags, 'max-concurrent'),
    requestsPerMinute: countFlag(flags, 'rpm'),
  };
  const endUserLimits: Limits = {
    dailyBudgetMicroUsd: usdFlag(flags, 'end-user-daily-budget-usd'),
    maxConcurrentJobs: countFlag(flags, 'end-user-max-concurrent'),
    requestsPerMinute: countFlag(flags, 'end-user-rpm'),
  };
  try {
    const { record, secret } = await createApiKey(store, {
      name: flags.name,
      scopes,
      limits,
      endUserLimits,
    });
    console.log(`Created API key "${record.name}" (${record.scopes.join(', ')}).`);
    console.log(`id      ${record.id}`);
    console.log(`secret  ${secret}`);
    console.log('The secret is shown only now: store it safely. Only its hash is kept.');
    return 0;
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'BAD_USER_INPUT') {
      throw new UsageError(`--${String(error.extensions.field)}: ${error.message}`);
    }
    throw error;
  }
}

function describeLimits(limits: Limits): string | null {
  const parts = [
    limits.dailyBudgetMicroUsd === null ? null : `${formatUsd(limits.dailyBudgetMicroUsd)}/day`,
    limits.maxConcurrentJobs === null ? null : `${limits.maxConcurrentJobs} jobs`,
    limits.requestsPerMinute === null ? null : `${limits.requestsPerMinute}/min`,
  ].filter((part) => part !== null);
  return parts.length === 0 ? null : parts.join(', ');
}

const timestamp = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

function keyRow(key: ApiKeyRecord): string[] {
  const own = describeLimits(key.limits);
  const perEndUser = describeLimits(key.endUserLimits);
  const limits = [own, perEndUser === null ? null : `per end user ${perEndUser}`]
    .filter((part) => part !== null)
    .join('; ');
  return [
    key.id,
    key.name,
    `${key.prefix}…`,
    key.scopes.join(','),
    limits || 'none',
    timestamp(key.createdAt),
    key.revokedAt === null ? '-' : timestamp(key.revokedAt),
  ];
}

function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  for (const row of rows) {
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths?.[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}

async function list(store: Store): Promise<number> {
  const keys = await store.listApiKeys();
  if (keys.length === 0) {
    console.log('No API keys yet. Create one with: keys create --name NAME --scopes generate,read');
    return 0;
  }
  printTable([
    ['ID', 'NAME', 'PREFIX', 'SCOPES', 'LIMITS', 'CREATED', 'REVOKED'],
    ...keys.map(keyRow),
  ]);
  return 0;
}

async function revoke(store: Store, id: string | undefined): Promise<number> {
  if (id === undefined) throw new UsageError('revoke needs a key id (see: keys list)');
  if (await store.revokeApiKey(id)) {
    console.log(`Revoked ${id}.`);
    return 0;
  }
  const key = await store.getApiKey(id);
  console.error(
    key === null ? `error: no API key has id ${id}` : `error: ${id} was already revoked`,
  );
  return 1;
}

async function run(args: string[]): Promise<number> {
  const { command, rest, flags, help } = parseCommandLine(args);
  if (help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (!['create', 'list', 'revoke'].includes(command)) {
    throw new UsageError(`unknown command "${command}" (expected create, list or revoke)`);
  }
  const extra = command === 'revoke' ? rest.slice(1) : rest;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const [misplaced] = Object.keys(flags);
  if (command !== 'create' && misplaced !== undefined) {
    throw new UsageError(`--${misplaced} only applies to create`);
  }
  const store = await openStore(loadStoreConfig());
  try {
    if (command === 'create') return await create(store, flags);
    if (command === 'list') return await list(store);
    return await revoke(store, rest[0]);
  } finally {
    await store.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  const usage = error instanceof UsageError || error instanceof ConfigError;
  console.error(`error: ${(error as Error).message}`);
  process.exitCode = usage ? 2 : 1;
}

/**
 * API key administration on the gateway's own database:
 *   pnpm --filter @zimage/gateway keys create --name NAME --scopes generate,read [limits]
 *   pnpm --filter @zimage/gateway keys list
 *   pnpm --filter @zimage/gateway keys set-limits KEY_ID [limits]
 *   pnpm --filter @zimage/gateway keys revoke KEY_ID
 *   pnpm --filter @zimage/gateway keys usage [--from DAY] [--to DAY] [--group-by day,model,key,end-user]
 * Works while the gateway runs, on the database it uses (DATABASE_URL, else SQLite in
 * DATA_DIR); a revocation or a limits change reaches it within seconds (its key cache). Every
 * change is written to the audit log as made by the keys CLI. Exit codes: 0 done, 1 failed
 * (e.g. no such key), 2 bad usage or setting.
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { MODEL_KEYS, type ModelKey } from '@zimage/core';
import { checkLimitsPatch, createApiKey, dashboardSignInUrl } from '../auth/api-keys.ts';
import { revokeKey, updateKeyLimits } from '../auth/key-admin.ts';
import { ConfigError, loadDashboardUrl, loadStoreConfig } from '../config.ts';
import { monthStart } from '../domain/admission.ts';
import type { AuditActor } from '../domain/audit.ts';
import {
  type FlatLimits,
  flatLimits,
  type LimitsPatch,
  NO_FLAT_LIMITS,
  splitLimits,
} from '../domain/key-limits.ts';
import { formatUsd, parseUsd } from '../domain/money.ts';
import { type ApiKeyRecord, SCOPES, type Scope } from '../domain/principal.ts';
import { GatewayError } from '../errors.ts';
import { utcDay } from '../limits/budget.ts';
import { openStore } from '../store/open-store.ts';
import type { Store, UsageGroup, UsageReportRow } from '../store/store.ts';
import { isUtcDay, readUsageReport } from '../store/usage-report.ts';

const USAGE = `Usage:
  keys create --name NAME --scopes SCOPE[,SCOPE...] [limits]
  keys list
  keys set-limits KEY_ID [limits]
  keys revoke KEY_ID
  keys usage [--from DAY] [--to DAY] [--group-by GROUP[,GROUP...]]

Scopes: ${SCOPES.join(', ')} (admin implies all others).
Limits (create: unset means no limit; set-limits: unset keeps the limit, none clears it):
  --daily-budget-usd USD            spending per UTC day, for the whole key
  --monthly-budget-usd USD          spending per UTC calendar month, for the whole key
  --max-concurrent N                jobs in flight at once, for the whole key
  --rpm N                           requests per minute, for the whole key
  --end-user-daily-budget-usd USD   the same, per end user the key acts for (act-as)
  --end-user-max-concurrent N
  --end-user-rpm N
  --allowed-models MODEL[,MODEL...] the only models the key may use (${MODEL_KEYS.join(', ')});
                                    all: every model
Usage report: the charged jobs (refunds included) of the UTC days --from to --to (default:
  this month up to today), grouped by any of day, model, key, end-user (default: day).

create prints the secret once, with a dashboard link that signs in with it (PUBLIC_URL, else
http://HOST:PORT/). The database is PostgreSQL at $DATABASE_URL when set, else
$DATA_DIR/zimage.db (DATA_DIR defaults to ./.data).`;

/** A mistake in the command line: reported as one line, exit code 2. */
class UsageError extends Error {}

/** Each limit's flag and the flat limit it sets, with how its value is read. */
const LIMIT_FLAGS = {
  'daily-budget-usd': { limit: 'dailyBudgetMicroUsd', kind: 'usd' },
  'monthly-budget-usd': { limit: 'monthlyBudgetMicroUsd', kind: 'usd' },
  'max-concurrent': { limit: 'maxConcurrentJobs', kind: 'count' },
  rpm: { limit: 'requestsPerMinute', kind: 'count' },
  'end-user-daily-budget-usd': { limit: 'endUserDailyBudgetMicroUsd', kind: 'usd' },
  'end-user-max-concurrent': { limit: 'endUserMaxConcurrentJobs', kind: 'count' },
  'end-user-rpm': { limit: 'endUserRequestsPerMinute', kind: 'count' },
  'allowed-models': { limit: 'allowedModels', kind: 'models' },
} as const satisfies Record<string, { limit: keyof FlatLimits; kind: 'usd' | 'count' | 'models' }>;

type LimitFlag = keyof typeof LIMIT_FLAGS;
const REPORT_FLAGS = ['from', 'to', 'group-by'] as const;
type Flags = Partial<Record<LimitFlag | (typeof REPORT_FLAGS)[number] | 'name' | 'scopes', string>>;

/** Which command each flag belongs to. */
const FLAG_COMMANDS: Record<keyof Flags, readonly string[]> = {
  name: ['create'],
  scopes: ['create'],
  ...(Object.fromEntries(
    Object.keys(LIMIT_FLAGS).map((flag) => [flag, ['create', 'set-limits']]),
  ) as unknown as Record<LimitFlag, readonly string[]>),
  from: ['usage'],
  to: ['usage'],
  'group-by': ['usage'],
};

const COMMANDS = ['create', 'list', 'set-limits', 'revoke', 'usage'] as const;
/** Commands that take a key id. */
const WITH_KEY_ID = new Set<string>(['set-limits', 'revoke']);

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
        ...(Object.fromEntries(
          Object.keys(FLAG_COMMANDS).map((flag) => [flag, { type: 'string' }]),
        ) as Record<keyof Flags, { type: 'string' }>),
      },
    });
    const { help = false, ...flags } = values;
    const [command, ...rest] = positionals;
    return { command, rest, flags: flags as Flags, help: help as boolean };
  } catch (error) {
    // parseArgs explains at length how to pass positionals starting with '-'; the first
    // sentence ("Unknown option '--foo'") is the part that helps here.
    throw new UsageError((error as Error).message.split('. ')[0]);
  }
}

function usdValue(flag: LimitFlag, text: string): number {
  const microUsd = parseUsd(text);
  if (microUsd === null) {
    throw new UsageError(
      `--${flag} must be an amount in USD with at most 6 decimals (got "${text}")`,
    );
  }
  return microUsd;
}

function countValue(flag: LimitFlag, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${flag} must be a whole number ≥ 1 (got "${text}")`);
  }
  return Number(text);
}

function modelsValue(flag: LimitFlag, text: string): ModelKey[] | null {
  if (text === 'all') return null;
  const models = text.split(',').map((m) => m.trim());
  const unknown = models.find((m) => !(MODEL_KEYS as readonly string[]).includes(m));
  if (unknown !== undefined) {
    throw new UsageError(`--${flag} takes ${MODEL_KEYS.join(', ')} or all (got "${unknown}")`);
  }
  return models as ModelKey[];
}

/** The limits the flags give: a number or list sets a limit, none clears it. */
function limitsPatch(flags: Flags): LimitsPatch {
  const patch: Record<string, unknown> = {};
  for (const [flag, { limit, kind }] of Object.entries(LIMIT_FLAGS) as [
    LimitFlag,
    (typeof LIMIT_FLAGS)[LimitFlag],
  ][]) {
    const text = flags[flag];
    if (text === undefined) continue;
    if (kind === 'models') patch[limit] = modelsValue(flag, text);
    else if (text === 'none') patch[limit] = null;
    else patch[limit] = kind === 'usd' ? usdValue(flag, text) : countValue(flag, text);
  }
  const flagOf = (name: keyof FlatLimits) =>
    `--${Object.entries(LIMIT_FLAGS).find(([, { limit }]) => limit === name)?.[0]}`;
  try {
    return checkLimitsPatch(patch as LimitsPatch, flagOf);
  } catch (error) {
    throw usageErrorOf(error);
  }
}

/** A BAD_USER_INPUT of the gateway's own checks, as a usage error naming the flag. */
function usageErrorOf(error: unknown): unknown {
  if (!(error instanceof GatewayError && error.code === 'BAD_USER_INPUT')) return error;
  const field = String(error.extensions.field);
  return new UsageError(field.startsWith('--') ? error.message : `--${field}: ${error.message}`);
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

/** The audit log's "who" for changes made here. */
function cliActor(): AuditActor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): the host still says where.
  }
  return { keyId: null, label: `keys CLI (${user}@${hostname()})` };
}

async function create(store: Store, flags: Flags): Promise<number> {
  if (flags.name === undefined) throw new UsageError('--name is required');
  const scopes = scopesFlag(flags.scopes);
  const patch = limitsPatch(flags);
  const dashboardUrl = loadDashboardUrl();
  const { record, secret } = await createApiKey(
    store,
    { name: flags.name, scopes, ...splitLimits({ ...NO_FLAT_LIMITS, ...patch }) },
    cliActor(),
  ).catch((error: unknown) => {
    throw usageErrorOf(error);
  });
  console.log(`Created API key "${record.name}" (${record.scopes.join(', ')}).`);
  console.log(`id       ${record.id}`);
  console.log(`secret   ${secret}`);
  console.log(`sign-in  ${dashboardSignInUrl(dashboardUrl, secret)}`);
  console.log(
    'The secret is shown only now: store it safely. Only its hash is kept. The sign-in link ' +
      "holds the secret too: hand it only to the key's owner.",
  );
  return 0;
}

function describeLimits(key: Pick<ApiKeyRecord, 'limits' | 'endUserLimits'>): string {
  const flat = flatLimits(key);
  const own = [
    flat.dailyBudgetMicroUsd === null ? null : `${formatUsd(flat.dailyBudgetMicroUsd)}/day`,
    flat.monthlyBudgetMicroUsd === null ? null : `${formatUsd(flat.monthlyBudgetMicroUsd)}/month`,
    flat.maxConcurrentJobs === null ? null : `${flat.maxConcurrentJobs} jobs`,
    flat.requestsPerMinute === null ? null : `${flat.requestsPerMinute}/min`,
    flat.allowedModels === null ? null : `models ${flat.allowedModels.join(',')}`,
  ];
  const perEndUser = [
    flat.endUserDailyBudgetMicroUsd === null
      ? null
      : `${formatUsd(flat.endUserDailyBudgetMicroUsd)}/day`,
    flat.endUserMaxConcurrentJobs === null ? null : `${flat.endUserMaxConcurrentJobs} jobs`,
    flat.endUserRequestsPerMinute === null ? null : `${flat.endUserRequestsPerMinute}/min`,
  ];
  const join = (parts: (string | null)[]) => parts.filter((part) => part !== null).join(', ');
  const parts = [join(own), join(perEndUser) && `per end user ${join(perEndUser)}`];
  return parts.filter((part) => part !== '').join('; ') || 'none';
}

const timestamp = (date: Date | null) =>
  date === null ? '-' : `${date.toISOString().slice(0, 19)}Z`;

function keyRow(key: ApiKeyRecord): string[] {
  return [
    key.id,
    key.name,
    `${key.prefix}…`,
    key.scopes.join(','),
    describeLimits(key),
    timestamp(key.createdAt),
    timestamp(key.lastUsedAt),
    timestamp(key.revokedAt),
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
    ['ID', 'NAME', 'PREFIX', 'SCOPES', 'LIMITS', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map(keyRow),
  ]);
  return 0;
}

const noSuchKey = (id: string) => {
  console.error(`error: no API key has id ${id}`);
  return 1;
};

async function setLimits(store: Store, id: string | undefined, flags: Flags): Promise<number> {
  if (id === undefined) throw new UsageError('set-limits needs a key id (see: keys list)');
  const patch = limitsPatch(flags);
  if (Object.keys(patch).length === 0) {
    throw new UsageError('set-limits needs at least one limit (see: keys --help)');
  }
  const key = await updateKeyLimits(store, id, patch, cliActor());
  if (key === null) return noSuchKey(id);
  console.log(`Limits of ${id} ("${key.name}"): ${describeLimits(key)}.`);
  return 0;
}

async function revoke(store: Store, id: string | undefined): Promise<number> {
  if (id === undefined) throw new UsageError('revoke needs a key id (see: keys list)');
  if (await revokeKey(store, id, cliActor())) {
    console.log(`Revoked ${id}.`);
    return 0;
  }
  if ((await store.getApiKey(id)) === null) return noSuchKey(id);
  console.error(`error: ${id} was already revoked`);
  return 1;
}

/** The --group-by names, as the admin API's UsageGrouping in lower case. */
const GROUPS: Record<string, UsageGroup> = {
  day: 'day',
  model: 'model',
  key: 'apiKey',
  'end-user': 'endUser',
};

function dayFlag(flag: 'from' | 'to', text: string | undefined, fallback: string): string {
  if (text === undefined) return fallback;
  if (!isUtcDay(text))
    throw new UsageError(`--${flag} must be a UTC day as YYYY-MM-DD (got "${text}")`);
  return text;
}

async function usage(store: Store, flags: Flags): Promise<number> {
  const to = dayFlag('to', flags.to, utcDay(new Date()));
  const from = dayFlag('from', flags.from, monthStart(to));
  const groupBy = (flags['group-by'] ?? 'day').split(',').map((name) => {
    const group = GROUPS[name.trim()];
    if (group === undefined) {
      throw new UsageError(`--group-by takes ${Object.keys(GROUPS).join(', ')} (got "${name}")`);
    }
    return group;
  });
  const rows = await readUsageReport(store, { from, to, groupBy }).catch((error: unknown) => {
    throw usageErrorOf(error);
  });
  if (rows.length === 0) {
    console.log(`No charged jobs from ${from} to ${to}.`);
    return 0;
  }
  const keyIds = [...new Set(rows.map((row) => row.keyId).filter((id) => id !== null))];
  const names = new Map((await store.getApiKeys(keyIds)).map((key) => [key.id, key.name]));
  const columns: [UsageGroup, string, (row: UsageReportRow) => string][] = [
    ['day', 'DAY', (row) => row.day ?? ''],
    ['model', 'MODEL', (row) => row.model ?? ''],
    ['apiKey', 'KEY', (row) => `${row.keyId} (${names.get(row.keyId ?? '') ?? '?'})`],
    ['endUser', 'END USER', (row) => row.endUserId ?? '(the key itself)'],
  ];
  const shown = columns.filter(([group]) => groupBy.includes(group));
  const total = rows.reduce((sum, row) => sum + row.microUsd, 0);
  printTable([
    [...shown.map(([, title]) => title), 'JOBS', 'IMAGES', 'COST'],
    ...rows.map((row) => [
      ...shown.map(([, , cell]) => cell(row)),
      String(row.jobs),
      String(row.images),
      formatUsd(row.microUsd),
    ]),
  ]);
  console.log(`Total ${formatUsd(total)} from ${from} to ${to} (UTC), refunds included.`);
  return 0;
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
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(
      `unknown command "${command}" (expected ${COMMANDS.slice(0, -1).join(', ')} or ${COMMANDS.at(-1)})`,
    );
  }
  const extra = WITH_KEY_ID.has(command) ? rest.slice(1) : rest;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  for (const flag of Object.keys(flags) as (keyof Flags)[]) {
    const commands = FLAG_COMMANDS[flag];
    if (!commands.includes(command)) {
      throw new UsageError(`--${flag} only applies to ${commands.join(' and ')}`);
    }
  }
  const store = await openStore(loadStoreConfig());
  try {
    if (command === 'create') return await create(store, flags);
    if (command === 'list') return await list(store);
    if (command === 'set-limits') return await setLimits(store, rest[0], flags);
    if (command === 'usage') return await usage(store, flags);
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

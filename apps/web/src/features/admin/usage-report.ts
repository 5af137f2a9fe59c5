/**
 * The usage report's rows turned into what the usage view shows: spend per UTC day stacked by
 * model, the top keys and end users, and the CSV file. Sums are taken in integer micro-USD, as
 * the gateway counts, so they stay exact however many rows add up.
 */
import type { UsageRow } from '../../graphql/admin-operations.ts';
import type { Model } from '../../graphql/operations.ts';
import { microUsd, usdOfMicro, utcDay } from '../../ui/money.ts';

export const REPORT_DAYS = 30;

const DAY_MS = 86_400_000;

/** The `count` UTC days ending with the one `now` falls on, oldest first. */
export function lastDays(now: Date, count = REPORT_DAYS): string[] {
  const today = Date.parse(utcDay(now));
  return Array.from({ length: count }, (_, index) => utcDay(today - (count - 1 - index) * DAY_MS));
}

/** Whose spend is shown: the whole gateway, one key, or one end user of one key. */
export type Subject =
  | { kind: 'gateway' }
  | { kind: 'key'; keyId: string }
  | { kind: 'end user'; keyId: string; endUserId: string };

export function rowsOf(rows: readonly UsageRow[], subject: Subject): UsageRow[] {
  if (subject.kind === 'gateway') return [...rows];
  return rows.filter(
    (row) =>
      row.apiKey?.id === subject.keyId &&
      (subject.kind === 'key' || row.endUserId === subject.endUserId),
  );
}

export interface DaySpend {
  day: string;
  /** Micro-USD per model, in the order of `models`. */
  byModel: number[];
  totalMicroUsd: number;
}

export function spendPerDay(
  rows: readonly UsageRow[],
  days: readonly string[],
  models: readonly Model[],
): DaySpend[] {
  const spend = new Map(
    days.map((day) => [day, { day, byModel: models.map(() => 0), totalMicroUsd: 0 }]),
  );
  for (const row of rows) {
    const entry = row.day ? spend.get(row.day) : undefined;
    const index = row.model ? models.indexOf(row.model) : -1;
    if (!entry || index < 0) continue;
    const cost = microUsd(row.costUsd);
    entry.byModel[index] = (entry.byModel[index] ?? 0) + cost;
    entry.totalMicroUsd += cost;
  }
  return [...spend.values()];
}

/** A spender's id: the key's id, or `keyId/endUserId` for an end user of the key. */
export const spenderId = (keyId: string, endUserId: string | null) =>
  endUserId === null ? keyId : `${keyId}/${endUserId}`;

export interface Spender {
  /** `keyId` alone for a key, `keyId/endUserId` for an end user. */
  id: string;
  apiKey: NonNullable<UsageRow['apiKey']>;
  endUserId: string | null;
  jobs: number;
  images: number;
  microUsd: number;
}

/** Rows summed per key, or per end user of a key (`byEndUser`), highest spend first. */
export function topSpenders(rows: readonly UsageRow[], byEndUser: boolean): Spender[] {
  const spenders = new Map<string, Spender>();
  for (const row of rows) {
    if (!row.apiKey || (byEndUser && row.endUserId == null)) continue;
    const endUserId = byEndUser ? row.endUserId : null;
    const id = spenderId(row.apiKey.id, endUserId);
    const spender = spenders.get(id) ?? {
      id,
      apiKey: row.apiKey,
      endUserId,
      jobs: 0,
      images: 0,
      microUsd: 0,
    };
    spender.jobs += row.jobs;
    spender.images += row.images;
    spender.microUsd += microUsd(row.costUsd);
    spenders.set(id, spender);
  }
  return [...spenders.values()].sort((a, b) => b.microUsd - a.microUsd || b.jobs - a.jobs);
}

const CSV_COLUMNS = [
  'day',
  'model',
  'api_key_id',
  'api_key_name',
  'api_key_prefix',
  'end_user_id',
  'jobs',
  'images',
  'cost_usd',
];

/**
 * One CSV cell (RFC 4180 quoting). A text that a spreadsheet would run as a formula (=, +, -,
 * @ first) is prefixed with an apostrophe: key names and end user ids are chosen by others.
 */
function cell(value: string | number | null | undefined): string {
  if (value == null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report's rows as CSV, oldest day first; USD with all six decimals, exact. */
export function usageCsv(rows: readonly UsageRow[]): string {
  const sorted = [...rows].sort(
    (a, b) =>
      (a.day ?? '').localeCompare(b.day ?? '') ||
      (a.apiKey?.name ?? '').localeCompare(b.apiKey?.name ?? '') ||
      (a.endUserId ?? '').localeCompare(b.endUserId ?? '') ||
      (a.model ?? '').localeCompare(b.model ?? ''),
  );
  const lines = sorted.map((row) =>
    [
      row.day,
      row.model,
      row.apiKey?.id,
      row.apiKey?.name,
      row.apiKey?.keyPrefix,
      row.endUserId,
      row.jobs,
      row.images,
      usdOfMicro(microUsd(row.costUsd)).toFixed(6),
    ]
      .map(cell)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...lines].join('\r\n')}\r\n`;
}

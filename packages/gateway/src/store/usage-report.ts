/**
 * A usage report as callers ask for one (the admin API's `usageReport`, the keys CLI's
 * `usage`): its period checked and bounded, its rows bounded, then read from the store.
 */
import { badUserInput } from '../errors.ts';
import type { Store, UsageGroup, UsageReportRow } from './store.ts';

/** The longest period one report covers, in days (a year, leap or not). */
export const MAX_REPORT_DAYS = 366;
/** Most rows one report returns; more asks to narrow the period or the grouping. */
export const MAX_REPORT_ROWS = 10_000;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** True for a real UTC day as 'YYYY-MM-DD' ('2026-02-30' is not one). */
export function isUtcDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / 86_400_000;

/**
 * The report of `from`…`to` (UTC days, both included, already valid days), grouped by
 * `groupBy`. Throws BAD_USER_INPUT naming `to` for a period that ends before it starts or is
 * too long, `groupBy` for a report with too many rows.
 */
export async function readUsageReport(
  store: Store,
  query: { from: string; to: string; groupBy: readonly UsageGroup[] },
): Promise<UsageReportRow[]> {
  const days = dayNumber(query.to) - dayNumber(query.from) + 1;
  if (days < 1) throw badUserInput('to', 'to must be the same day as from or later');
  if (days > MAX_REPORT_DAYS) {
    throw badUserInput('to', `A report covers at most ${MAX_REPORT_DAYS} days`);
  }
  const rows = await store.usageReport({
    from: query.from,
    to: query.to,
    groupBy: [...new Set(query.groupBy)],
    maxRows: MAX_REPORT_ROWS,
  });
  if (rows.length > MAX_REPORT_ROWS) {
    throw badUserInput(
      'groupBy',
      `The report has more than ${MAX_REPORT_ROWS} rows: narrow the days or group by less`,
    );
  }
  return rows;
}

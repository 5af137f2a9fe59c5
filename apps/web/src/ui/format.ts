/** Formatting of money, durations and times, in the browser's locale. */

const usdFormat = new Intl.NumberFormat(undefined, {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 3,
});

/** $0.008, $0.016, $5.00 */
export const formatUsd = (usd: number) => usdFormat.format(usd);

/** 0.8 s, 12 s, 1 min 05 s */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
}

/** A stopwatch reading: 0:07, 1:32, 12:05 */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'short',
});
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/** Today's times as a time only; older ones with their date. */
export function formatWhen(iso: string, now = new Date()): string {
  const date = new Date(iso);
  return date.toDateString() === now.toDateString()
    ? timeFormat.format(date)
    : dateTimeFormat.format(date);
}

export const formatDateTime = (iso: string) => dateTimeFormat.format(new Date(iso));

/** Milliseconds between two timestamps, or null when either is missing. */
export function between(from: string | null | undefined, to: string | null | undefined) {
  return from && to ? Date.parse(to) - Date.parse(from) : null;
}

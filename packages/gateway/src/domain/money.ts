/**
 * Money is integer micro-USD (millionths of a dollar) from Pixazo's prices to the ledger, so
 * sums are exact; it becomes USD text only where a person reads it.
 */
import { microUsdToUsd } from '@zimage/core';

/** `$0.008`, `$5.00`: exact to the micro-dollar, at least cents. */
export function formatUsd(microUsd: number): string {
  const fixed = microUsdToUsd(microUsd).toFixed(6);
  return `$${fixed.replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/**
 * Exact micro-USD from a decimal USD amount ("5", "0.008"), with no float rounding on the way;
 * null when the text is not a non-negative amount with at most 6 decimals.
 */
export function parseUsd(text: string): number | null {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(text);
  if (match === null) return null;
  return Number(match[1]) * 1_000_000 + Number((match[2] ?? '').padEnd(6, '0'));
}

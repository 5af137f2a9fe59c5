/**
 * The gateway counts money in integer micro-USD and sends USD; sums of many amounts are taken
 * in micro-USD here too, so they stay exact (0.008 added 1000 times as floats is not 8).
 */
export const microUsd = (usd: number) => Math.round(usd * 1_000_000);
export const usdOfMicro = (micro: number) => micro / 1_000_000;

/** The exact sum, in USD, of USD amounts. */
export const sumUsd = (amounts: Iterable<number>) => {
  let micro = 0;
  for (const usd of amounts) micro += microUsd(usd);
  return usdOfMicro(micro);
};

/** A UTC calendar day, YYYY-MM-DD (the schema's `Date`): the days budgets and reports count. */
export const utcDay = (time: Date | number) => new Date(time).toISOString().slice(0, 10);

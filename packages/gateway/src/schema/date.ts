/** Date: a calendar day in UTC, 'YYYY-MM-DD' (the usage report's periods). */
import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** True for a real day ('2026-02-30' is not one). */
export function isUtcDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

builder.scalarType('Date', {
  description: 'A calendar day in UTC, YYYY-MM-DD.',
  serialize: (day) => day,
  parseValue(value) {
    if (typeof value !== 'string' || !isUtcDay(value)) {
      throw new GraphQLError('Date must be a day as YYYY-MM-DD, e.g. 2025-01-31');
    }
    return value;
  },
});

/** Date: a calendar day in UTC, 'YYYY-MM-DD' (the usage report's periods). */
import { GraphQLError } from 'graphql';
import { isUtcDay } from '../store/usage-report.ts';
import { builder } from './builder.ts';

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

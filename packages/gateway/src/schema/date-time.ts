/** DateTime: an ISO 8601 timestamp in UTC, e.g. 2025-01-31T12:00:00.000Z. */
import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';

builder.scalarType('DateTime', {
  description: 'An ISO 8601 timestamp in UTC, e.g. 2025-01-31T12:00:00.000Z.',
  serialize: (date) => date.toISOString(),
  parseValue(value) {
    const date = typeof value === 'string' ? new Date(value) : null;
    if (date === null || Number.isNaN(date.getTime())) {
      throw new GraphQLError('DateTime must be an ISO 8601 string');
    }
    return date;
  },
});

/**
 * The package's values against the contract files they come from (shared/contracts and
 * PRODUCT.md), so a change to the contract that is not made here fails a test.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  ERROR_CODES,
  errorCodeOfClose,
  isErrorCode,
  isTerminalStatus,
  JOB_STATUSES,
} from '../src/index.ts';

const shared = (file: string) =>
  readFileSync(new URL(`../../../../shared/${file}`, import.meta.url), 'utf8');

describe('the public contract', () => {
  it('lists exactly the error codes PRODUCT.md names', () => {
    const product = shared('PRODUCT.md');
    const errorsParagraph = product.slice(product.indexOf('`extensions.code` is one of'));
    const named = [
      ...errorsParagraph.slice(0, errorsParagraph.indexOf('masked')).matchAll(/`([A-Z_]+)`/g),
    ].map((match) => match[1]);
    expect([...ERROR_CODES].sort()).toEqual([...new Set(named)].sort());
  });

  it('has the JobStatus values of gateway.graphql, in order', () => {
    const schema = buildSchema(shared('contracts/gateway.graphql'));
    const status = schema.getType('JobStatus') as GraphQLEnumType;
    expect(status.getValues().map((value) => value.name)).toEqual([...JOB_STATUSES]);
  });

  it('knows its own codes and nothing else', () => {
    expect(isErrorCode('RATE_LIMITED')).toBe(true);
    expect(isErrorCode('INTERNAL_SERVER_ERROR')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });

  it('maps the refusal close codes back to their error codes', () => {
    expect(errorCodeOfClose(CLOSE_CODES.UNAUTHENTICATED)).toBe('UNAUTHENTICATED');
    expect(errorCodeOfClose(4403)).toBe('FORBIDDEN');
    expect(errorCodeOfClose(1000)).toBeUndefined();
  });

  it('calls only the four end states terminal', () => {
    expect(JOB_STATUSES.filter(isTerminalStatus)).toEqual([
      'COMPLETED',
      'FAILED',
      'ERROR',
      'CANCELLED',
    ]);
  });
});

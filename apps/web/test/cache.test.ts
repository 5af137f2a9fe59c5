import { describe, expect, it } from 'vitest';
import { matchesJobFilter } from '../src/graphql/cache.ts';
import type { Job } from '../src/graphql/operations.ts';

const job = { status: 'QUEUED', model: 'Z_IMAGE_BASE', prompt: 'A Red Fox' } as Job;

describe('list membership of a job', () => {
  it('follows the filters of the jobs field, as the gateway applies them', () => {
    expect(matchesJobFilter(job, { first: 20, after: 'x' })).toBe(true);
    expect(matchesJobFilter(job, { status: 'QUEUED', model: null, search: null })).toBe(true);
    expect(matchesJobFilter(job, { status: 'PROCESSING' })).toBe(false);
    expect(matchesJobFilter(job, { model: 'Z_IMAGE_TURBO' })).toBe(false);
    expect(matchesJobFilter(job, { search: 'red f' })).toBe(true);
    expect(matchesJobFilter(job, { search: 'blue' })).toBe(false);
  });

  it('does not guess for a filter it does not know', () => {
    expect(matchesJobFilter(job, { endUserId: 'discord:42' })).toBeUndefined();
  });
});

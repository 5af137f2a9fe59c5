import { describe, expect, it } from 'vitest';
import { ProgressView } from '../src/job-progress.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { completedJob, gatewayJob } from './helpers/fixtures.ts';

describe('ProgressView', () => {
  it('follows QUEUED → PROCESSING → COMPLETED and skips what the user would not notice', () => {
    const view = new ProgressView(new FakeClock());
    expect(view.next(gatewayJob({ queuePosition: 2 }))).toMatchObject({ phase: 'queued' });
    expect(view.next(gatewayJob({ queuePosition: 2 }))).toBeNull();
    expect(view.next(gatewayJob({ queuePosition: 1 }))).toMatchObject({ phase: 'queued' });
    const started = '2026-01-01T12:00:01.000Z';
    const processing = gatewayJob({
      status: 'PROCESSING',
      queuePosition: null,
      startedAt: started,
      expectedDurationMs: 3_200,
    });
    expect(view.next(processing)).toEqual({
      phase: 'processing',
      job: processing,
      startedAt: Date.parse(started),
      // The gateway's estimate, from the submission.
      etaAt: Date.parse(started) + 3_200,
    });
    // A late QUEUED (say, replayed after a reconnect) does not move the job backwards.
    expect(view.next(gatewayJob({ queuePosition: 1 }))).toBeNull();
    expect(view.next(completedJob())).toMatchObject({ phase: 'completed', durationMs: 4_500 });
    expect(view.next(completedJob())).toBeNull();
  });

  it('keeps the first ETA while the job stays PROCESSING', () => {
    const view = new ProgressView(new FakeClock());
    const startedAt = '2026-01-01T12:00:01.000Z';
    const first = view.next(
      gatewayJob({ status: 'PROCESSING', queuePosition: null, startedAt, expectedDurationMs: 1 }),
    );
    const later = view.next(
      gatewayJob({ status: 'PROCESSING', queuePosition: 0, startedAt, expectedDurationMs: 9 }),
    );
    expect(later).toMatchObject({
      phase: 'processing',
      etaAt: first?.phase === 'processing' ? first.etaAt : NaN,
    });
  });

  it('reports FAILED, ERROR and CANCELLED as failed', () => {
    for (const status of ['FAILED', 'ERROR', 'CANCELLED'] as const) {
      expect(new ProgressView(new FakeClock()).next(gatewayJob({ status }))).toMatchObject({
        phase: 'failed',
      });
    }
  });
});

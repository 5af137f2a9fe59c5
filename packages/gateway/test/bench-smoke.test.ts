/**
 * The benchmarks (`pnpm bench`) at a trivial size, so that they cannot rot: every server and
 * client process starts, talks and stops, and the reports come out whole. No timing is
 * asserted here; speed is what `pnpm bench` measures.
 */
import { describe, expect, it } from 'vitest';
import { runCalls } from '../bench/calls.ts';
import { runDelivery } from '../bench/delivery.ts';
import { runFanout } from '../bench/fanout.ts';
import { renderReport } from '../bench/lib/report.ts';
import { runScaleout } from '../bench/scaleout.ts';
import { runSubmit } from '../bench/submit.ts';

describe('pnpm bench harness, tiny sizes', () => {
  it('fan-out: 20 subscribers of one job on the baseline and on the gateway', async () => {
    const { runs, report } = await runFanout({ sizes: [20], clientProcesses: 2, rounds: 1 });
    expect(runs.map((run) => run.kind)).toEqual(['floor', 'baseline', 'gateway']);
    for (const run of runs) {
      expect(run.ready).toBe(20);
      expect(run.rounds).toHaveLength(1);
      expect(run.rounds[0]?.received).toBe(20);
      expect(run.rounds[0]?.valid).toBe(20);
      // The same payload bytes for every subscriber (each under its own operation id).
      expect(run.rounds[0]?.distinctPayloads).toBe(1);
    }
    expect(renderReport(report, '')).toContain('20 subscribers');
  }, 120_000);

  it('submit: the same job through the gateway and straight to the simulator', async () => {
    const { report } = await runSubmit({ requests: 20, concurrency: 4 });
    expect(report.tables).toHaveLength(2);
    for (const table of report.tables) {
      const failed = table.rows.find((row) => row[0] === 'failed requests');
      expect(failed?.slice(1, 3)).toEqual(['0', '0']);
    }
  }, 120_000);

  it('calls: Pixazo calls per job, polling and webhooks, with watchers', async () => {
    const { measured } = await runCalls({ jobs: 1, watchers: [2], timeScale: 0.05 });
    expect(measured.map((m) => m.mode)).toEqual(['polling', 'webhooks', 'direct']);
    for (const m of measured) {
      expect(m.posts).toBe(1);
      expect(m.completedWatchers).toBe(m.watchers);
      expect(m.finished).toBe(1);
      expect(m.getsPerJob[0]).toBeGreaterThan(0);
    }
  }, 180_000);

  it('scale-out: SQLite, then 1 and 3 instances on PostgreSQL + Redis', async () => {
    const { runs, report } = await runScaleout({
      submits: 10,
      concurrency: 2,
      subscribers: 6,
      rounds: 1,
      jobs: 3,
      timeScale: 0.05,
    });
    expect(runs.map((run) => [run.setup.name, run.setup.instances])).toEqual([
      ['sqlite', 1],
      ['pg1', 1],
      ['pg3', 3],
    ]);
    for (const run of runs) {
      expect(run.admission.sequential.latencies).toHaveLength(10);
      expect(run.admission.sequential.failures + run.admission.concurrent.failures).toBe(0);
      expect(run.fanoutReady).toBe(6);
      expect(run.fanout.map((round) => round.received)).toEqual([6]);
      expect(run.jobs.completed).toBe(3);
      expect(run.jobs.posts).toBe(3);
    }
    // The counters see the shared services' traffic, and only where there is some: one
    // admission statement per admitted job, on every instance together.
    const [sqlite, one, three] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    expect(sqlite.jobs.counted.postgres).toEqual({});
    for (const run of [one, three]) {
      expect(run.admission.sequentialCounts.postgres['WITH … INSERT INTO jobs']).toBe(10);
      expect(run.admission.sequentialCounts.redis.evalsha).toBe(10);
      expect(run.jobs.counted.postgresRoundTrips).toBeGreaterThan(0);
      expect(run.jobs.transactions).toBeGreaterThan(0);
    }
    expect(renderReport(report, '')).toContain('3 instances');
  }, 300_000);

  it("delivery: the lag from Pixazo's end to the subscriber, polling and webhooks", async () => {
    const { runs, report } = await runDelivery({ jobs: 2, timeScale: 0.05 });
    expect(runs.map((run) => run.mode)).toEqual(['polling', 'webhooks']);
    for (const run of runs) {
      expect(run.completed).toBe(2);
      expect(run.lagsMs).toHaveLength(2);
      // Received after Pixazo ended the job (one clock: the machine's).
      for (const lag of run.lagsMs) expect(lag).toBeGreaterThan(0);
      expect(run.getsPerJob.every((gets) => gets > 0)).toBe(true);
    }
    expect(renderReport(report, '')).toContain('Delivery lag');
  }, 180_000);
});

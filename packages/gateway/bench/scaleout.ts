/**
 * (d) Scale-out: the gateway as one process on SQLite (the baseline), as one instance on
 * PostgreSQL + Redis, and as three instances sharing them. Per setup: admission latency and
 * jobs/s; a status change published on instance A and delivered to subscribers spread over
 * the instances; and per job, the PostgreSQL statements, Redis commands and Pixazo calls.
 * Every instance, the simulator and the load clients run in processes of their own.
 */
import os from 'node:os';
import type { Limits } from '../src/domain/principal.ts';
import { pollSchedule } from './calls.ts';
import type { RoundResult, WatchResult } from './clients/ws-client-process.ts';
import { JOB_UPDATED } from './fanout.ts';
import { type Phase, runPhase, throughput } from './lib/http-load.ts';
import type { BenchReport, Table } from './lib/report.ts';
import { verdict } from './lib/report.ts';
import { type ChildHandle, startChild } from './lib/rpc.ts';
import {
  createScratchDatabase,
  type ScratchDatabase,
  type ScratchRedis,
  scratchRedis,
} from './lib/services.ts';
import { mean, median, ms, num, percentile, ratio, shares, sleep } from './lib/stats.ts';
import type { CommandCounts } from './servers/command-counts.ts';
import type { GatewayParams, Published, StartedServer } from './servers/server-process.ts';
import { gatewayTarget } from './submit.ts';

export interface ScaleoutOptions {
  /** Admissions per phase (sequential, concurrent) and setup. */
  submits: number;
  /** In flight at once in the concurrent phase. */
  concurrency: number;
  /** Subscribers of the fan-out, spread over the instances. */
  subscribers: number;
  /** Status changes measured. */
  rounds: number;
  /** Jobs run to completion for the per-job counts. */
  jobs: number;
  /** Simulated time scale of the per-job run. Default 0.25. */
  timeScale?: number | undefined;
  log?: (line: string) => void;
}

export const SCALEOUT_TARGETS = {
  admissionP50Ms: 3,
  crossInstanceAddedMs: 5,
};

type SetupName = 'sqlite' | 'pg1' | 'pg3';
interface Setup {
  name: SetupName;
  label: string;
  instances: number;
  /** PostgreSQL + Redis (else SQLite and in-memory pub/sub in one process). */
  shared: boolean;
}

const SETUPS: Setup[] = [
  { name: 'sqlite', label: 'SQLite, 1 process (baseline)', instances: 1, shared: false },
  { name: 'pg1', label: 'PostgreSQL + Redis, 1 instance', instances: 1, shared: true },
  { name: 'pg3', label: 'PostgreSQL + Redis, 3 instances', instances: 3, shared: true },
];

/** Every limit set (and never reached): admission takes the key's lock and reads its usage. */
const KEY_LIMITS: Limits = {
  dailyBudgetMicroUsd: 1_000_000_000_000,
  maxConcurrentJobs: 100_000,
  requestsPerMinute: 1_000_000,
};
/** Jobs at Pixazo at once, over all instances: every admitted job is sent right away. */
const MAX_CONCURRENCY = 1000;
const FANOUT_CLIENTS = 3;
const IDLE_WINDOW_MS = 3000;
const DEFAULT_TIME_SCALE = 0.25;
const PROMPT = 'a harbour crane at night, seen from three places at once';

interface Instance {
  process: ChildHandle;
  server: StartedServer;
}

interface Cluster {
  sim: ChildHandle;
  instances: Instance[];
  /** The API key every instance accepts (created by the first). */
  key: string;
  database: ScratchDatabase | null;
  /** Stops every process of the cluster (the database stays, for its statistics). */
  stopProcesses(): Promise<void>;
  /** Stops the processes, then drops the database and deletes the Redis keys. */
  stop(): Promise<void>;
}

async function startCluster(
  setup: Setup,
  simTimeScale: number,
  params: Partial<GatewayParams>,
): Promise<Cluster> {
  const children: ChildHandle[] = [];
  let database: ScratchDatabase | null = null;
  let redis: ScratchRedis | null = null;
  const stopProcesses = async () => {
    for (const child of children.reverse()) await child.stop();
    children.length = 0;
  };
  const stop = async () => {
    await stopProcesses();
    await database?.drop();
    await redis?.clean();
  };
  try {
    const sim = await startChild('simulator', 'servers/server-process.ts');
    children.push(sim);
    const simServer = await sim.call<StartedServer>('startSim', { timeScale: simTimeScale });
    if (setup.shared) {
      database = await createScratchDatabase();
      redis = scratchRedis();
    }
    const instances: Instance[] = [];
    for (let i = 0; i < setup.instances; i++) {
      const name = `gateway ${String.fromCharCode(65 + i)}`;
      const child = await startChild(name, 'servers/server-process.ts');
      children.push(child);
      const server = await child.call<StartedServer>('startGateway', {
        ...params,
        pixazoUrl: simServer.url,
        maxConcurrency: MAX_CONCURRENCY,
        databaseUrl: database?.url,
        redis: redis ? { url: redis.url, keyPrefix: redis.keyPrefix } : undefined,
        keyLimits: i === 0 ? KEY_LIMITS : false,
        instrument: true,
      } satisfies GatewayParams);
      instances.push({ process: child, server });
    }
    const key = instances[0]?.server.key as string;
    return { sim, instances, key, database, stopProcesses, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Statement and command counts summed over the instances. */
async function countsOf(cluster: Cluster): Promise<CommandCounts> {
  const all = await Promise.all(
    cluster.instances.map((i) => i.process.call<CommandCounts>('commandCounts')),
  );
  const sum = (pick: (c: CommandCounts) => Record<string, number>) => {
    const total: Record<string, number> = {};
    for (const counts of all) {
      for (const [name, n] of Object.entries(pick(counts))) total[name] = (total[name] ?? 0) + n;
    }
    return total;
  };
  return {
    postgres: sum((c) => c.postgres),
    postgresRoundTrips: all.reduce((n, c) => n + c.postgresRoundTrips, 0),
    redis: sum((c) => c.redis),
    redisPublishedBytes: all.reduce((n, c) => n + c.redisPublishedBytes, 0),
    redisDeliveredBytes: all.reduce((n, c) => n + c.redisDeliveredBytes, 0),
  };
}

function minus(after: Record<string, number>, before: Record<string, number>) {
  const delta: Record<string, number> = {};
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0);
    if (d !== 0) delta[name] = d;
  }
  return delta;
}

const total = (counts: Record<string, number>) =>
  Object.values(counts).reduce((sum, n) => sum + n, 0);

/** "BEGIN 1.00, SELECT … 2.00" per job, the largest first. */
function breakdown(counts: Record<string, number>, per: number): string {
  return Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `\`${name}\` ${num(n / per, 2)}`)
    .join(', ');
}

/** Counts over a window of time. */
type Counted = CommandCounts;

const countedBetween = (before: CommandCounts, after: CommandCounts): Counted => ({
  postgres: minus(after.postgres, before.postgres),
  postgresRoundTrips: after.postgresRoundTrips - before.postgresRoundTrips,
  redis: minus(after.redis, before.redis),
  redisPublishedBytes: after.redisPublishedBytes - before.redisPublishedBytes,
  redisDeliveredBytes: after.redisDeliveredBytes - before.redisDeliveredBytes,
});

interface AdmissionRun {
  sequential: Phase;
  concurrent: Phase;
  /** `store.admitJob` alone, timed inside the instances, per phase. */
  storeSequential: number[];
  storeConcurrent: number[];
  /** Statements and commands during the sequential phase (admissions and their dispatch). */
  sequentialCounts: Counted;
}

interface FanoutRound {
  /** Last delivery anywhere, and on the instances other than A (all of them with one). */
  lastAll: number;
  lastOthers: number;
  p50Others: number;
  received: number;
}

interface JobsRun {
  posts: number;
  getsPerJob: number[];
  media: number;
  completed: number;
  elapsedMs: number;
  counted: Counted;
  /** Per instance and second, while no job runs. */
  idlePostgresPerSecond: number;
  idlePostgresRoundTripsPerSecond: number;
  idleRedisPerSecond: number;
  /** pg_stat_database, from the start of the jobs until every instance stopped. */
  transactions: number;
}

interface SetupRun {
  setup: Setup;
  admission: AdmissionRun;
  fanout: FanoutRound[];
  fanoutReady: number;
  jobs: JobsRun;
}

async function measureAdmission(cluster: Cluster, options: ScaleoutOptions) {
  const targets = cluster.instances.map((i) => ({
    ...gatewayTarget({ ...i.server, key: cluster.key }),
    name: i.process.name,
  }));
  const storeTimes = async () =>
    (
      await Promise.all(cluster.instances.map((i) => i.process.call<number[]>('admissionTimes')))
    ).flat();
  await runPhase(targets, Math.min(50, options.submits), 4);
  await sleep(500);
  await storeTimes();
  const before = await countsOf(cluster);
  const sequential = await runPhase(targets, options.submits, 1);
  const after = await countsOf(cluster);
  const storeSequential = await storeTimes();
  await sleep(300);
  const concurrent = await runPhase(targets, options.submits, options.concurrency);
  const storeConcurrent = await storeTimes();
  return {
    sequential,
    concurrent,
    storeSequential,
    storeConcurrent,
    sequentialCounts: countedBetween(before, after),
  };
}

/** Subscribers spread over the instances (client process i on instance i mod n); A publishes. */
async function measureFanout(cluster: Cluster, options: ScaleoutOptions) {
  const a = cluster.instances[0] as Instance;
  const { id } = await a.process.call<{ id: string }>('createJob');
  const clients: ChildHandle[] = [];
  try {
    for (let i = 0; i < FANOUT_CLIENTS; i++) {
      clients.push(await startChild(`client ${i}`, 'clients/ws-client-process.ts'));
    }
    const counts = shares(options.subscribers, FANOUT_CLIENTS);
    const instanceOf = (client: number) => client % cluster.instances.length;
    await Promise.all(
      clients.map((client, i) =>
        client.call(
          'connect',
          {
            url: cluster.instances[instanceOf(i)]?.server.wsUrl,
            count: counts[i],
            connectionParams: { authorization: `Bearer ${cluster.key}` },
            concurrency: 32,
          },
          300_000,
        ),
      ),
    );
    const subscribed = await Promise.all(
      clients.map((client, i) =>
        client.call<{ ready: number }>(
          'subscribe',
          { query: JOB_UPDATED, variables: [{ id }], perVariables: counts[i] },
          300_000,
        ),
      ),
    );
    const ready = subscribed.reduce((sum, s) => sum + s.ready, 0);
    await sleep(500);
    const rounds: FanoutRound[] = [];
    // Round 1 warms up every instance's path; it is not measured.
    for (let round = 1; round <= options.rounds + 1; round++) {
      await Promise.all(clients.map((client) => client.call('arm')));
      const published = await a.process.call<Published>('publish', { jobId: id, round });
      const results = await Promise.all(
        clients.map((client) =>
          client.call<RoundResult>('collect', { timeoutMs: 15_000, expectStatus: 'PROCESSING' }),
        ),
      );
      const latencies = (indexes: number[]) =>
        indexes.flatMap((i) =>
          Array.from(results[i]?.times ?? [], (t) => t - published.publishedAt),
        );
      const all = results.map((_, i) => i);
      const others = cluster.instances.length > 1 ? all.filter((i) => instanceOf(i) !== 0) : all;
      const received = results.reduce((sum, r) => sum + r.valid, 0);
      const complete = (indexes: number[]) => indexes.every((i) => results[i]?.valid === counts[i]);
      if (round > 1) {
        rounds.push({
          lastAll: complete(all) ? percentile(latencies(all), 100) : Number.NaN,
          lastOthers: complete(others) ? percentile(latencies(others), 100) : Number.NaN,
          p50Others: percentile(latencies(others), 50),
          received,
        });
      }
      await sleep(300);
    }
    return { rounds, ready };
  } finally {
    await Promise.all(clients.map((client) => client.call('close', null, 60_000).catch(() => {})));
    await Promise.all(clients.map((client) => client.stop()));
  }
}

interface LogEntry {
  path: string;
  route: string;
}

async function graphql<T>(url: string, key: string, query: string, variables: object) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`gateway answered ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * Jobs run to completion on a fresh cluster (simulated time scaled, the gateway's poll
 * schedule with it), each watched by one subscriber on another instance than the one that
 * admitted it; counted: everything the instances sent, and the simulator's log.
 */
async function measureJobs(setup: Setup, options: ScaleoutOptions): Promise<JobsRun> {
  const scale = options.timeScale ?? DEFAULT_TIME_SCALE;
  const cluster = await startCluster(setup, scale, { pollSchedule: pollSchedule(scale) });
  const watcher = await startChild('watchers', 'clients/ws-client-process.ts');
  try {
    const n = cluster.instances.length;
    const servers = cluster.instances.map((i) => i.server);
    // Socket k watches job k, admitted on instance k mod n and watched on (k + 1) mod n.
    for (let k = 0; k < options.jobs; k++) {
      await watcher.call('connect', {
        url: servers[(k + 1) % n]?.wsUrl,
        count: 1,
        connectionParams: { authorization: `Bearer ${cluster.key}` },
      });
    }
    await sleep(500);
    const idleStart = await countsOf(cluster);
    await sleep(IDLE_WINDOW_MS);
    const before = await countsOf(cluster);
    const transactionsBefore = (await cluster.database?.transactions()) ?? Number.NaN;
    await cluster.sim.call('clearSimRequests');
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: options.jobs }, async (_, k) => {
        const server = servers[k % n] as StartedServer;
        const data = await graphql<{ generateImage: { id: string } }>(
          server.url,
          cluster.key,
          'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
          { input: { model: 'Z_IMAGE_TURBO', prompt: PROMPT, imageSize: 'SQUARE_1_1' } },
        );
        return data.generateImage.id;
      }),
    );
    await watcher.call('subscribe', {
      query: JOB_UPDATED,
      variables: ids.map((id) => ({ id })),
      perVariables: 1,
    });
    const watched = await watcher.call<WatchResult>('watch', { timeoutMs: 120_000 }, 150_000);
    const elapsedMs = performance.now() - started;
    const after = await countsOf(cluster);
    const jobs = await Promise.all(
      ids.map(async (id) => {
        const data = await graphql<{ job: { status: string; requestId: string } }>(
          servers[0]?.url as string,
          cluster.key,
          'query ($id: ID!) { job(id: $id) { status requestId } }',
          { id },
        );
        return data.job;
      }),
    );
    const entries = await cluster.sim.call<LogEntry[]>('simRequests', {});
    await watcher.call('close');
    await cluster.stopProcesses();
    // Each server process flushes its statistics when its connection ends.
    await sleep(1000);
    const transactionsAfter = (await cluster.database?.transactions()) ?? Number.NaN;
    const idle = (pick: (c: CommandCounts) => Record<string, number>) =>
      total(minus(pick(before), pick(idleStart))) / (IDLE_WINDOW_MS / 1000) / n;
    if (watched.completed !== options.jobs) {
      options.log?.(`  ${setup.name}: ${watched.completed} of ${options.jobs} watchers completed`);
    }
    return {
      posts: entries.filter((e) => e.route === 'submit').length,
      media: entries.filter((e) => e.route === 'media').length,
      getsPerJob: jobs.map(
        (job) =>
          entries.filter((e) => e.route === 'status' && e.path.endsWith(`/${job.requestId}`))
            .length,
      ),
      completed: jobs.filter((job) => job.status === 'COMPLETED').length,
      elapsedMs,
      counted: countedBetween(before, after),
      idlePostgresPerSecond: idle((c) => c.postgres),
      idlePostgresRoundTripsPerSecond:
        (before.postgresRoundTrips - idleStart.postgresRoundTrips) / (IDLE_WINDOW_MS / 1000) / n,
      idleRedisPerSecond: idle((c) => c.redis),
      transactions: transactionsAfter - transactionsBefore,
    };
  } finally {
    await watcher.stop();
    await cluster.stop();
  }
}

async function measureSetup(setup: Setup, options: ScaleoutOptions): Promise<SetupRun> {
  const log = options.log ?? (() => {});
  // Long jobs (time scale 100) and a first status poll after 10 minutes: nothing but the
  // admissions, their POSTs and the fan-out happens while they are measured.
  const cluster = await startCluster(setup, 100, {
    pollSchedule: { firstDelayMs: 600_000, minIntervalMs: 600_000, maxIntervalMs: 600_000 },
  });
  let admission: AdmissionRun;
  let fanout: Awaited<ReturnType<typeof measureFanout>>;
  try {
    admission = await measureAdmission(cluster, options);
    log(
      `  ${setup.name}: admission p50 ${ms(percentile(admission.sequential.latencies, 50), 2)}, ` +
        `${num(throughput(admission.concurrent))} jobs/s with ${options.concurrency} in flight`,
    );
    fanout = await measureFanout(cluster, options);
    log(
      `  ${setup.name}: ${fanout.ready} subscribed; last delivery (median) ${ms(median(fanout.rounds.map((r) => r.lastAll)))}, on B and C ${ms(median(fanout.rounds.map((r) => r.lastOthers)))}`,
    );
  } finally {
    await cluster.stop();
  }
  const jobs = await measureJobs(setup, options);
  log(
    `  ${setup.name}: ${jobs.completed}/${options.jobs} jobs COMPLETED, ${num(jobs.posts / options.jobs, 2)} POST and ${num(mean(jobs.getsPerJob), 2)} status GETs per job`,
  );
  return { setup, admission, fanout: fanout.rounds, fanoutReady: fanout.ready, jobs };
}

export async function runScaleout(options: ScaleoutOptions): Promise<{
  report: BenchReport;
  runs: SetupRun[];
}> {
  if (Math.min(50, options.submits) + 2 * options.submits > MAX_CONCURRENCY) {
    throw new Error(
      `--submits: at most 475 (the gateway keeps at most ${MAX_CONCURRENCY} jobs at Pixazo)`,
    );
  }
  const runs: SetupRun[] = [];
  const loadBefore = os.loadavg();
  for (const setup of SETUPS) runs.push(await measureSetup(setup, options));
  const loadAfter = os.loadavg();
  const load = (avg: number[]) => avg.map((v) => v.toFixed(1)).join(' / ');
  const [base, one, three] = runs as [SetupRun, SetupRun, SetupRun];
  const columns = [
    'metric',
    base.setup.label,
    one.setup.label,
    'PG+Redis ×1 / SQLite',
    three.setup.label,
    'PG+Redis ×3 / SQLite',
    'target',
    'result',
  ];
  type Metric = {
    name: string;
    value: (run: SetupRun) => number;
    format: (v: number) => string;
    target?: [string, (one: number, three: number) => boolean];
  };
  const rowsOf = (metrics: Metric[]) =>
    metrics.map((m) => [
      m.name,
      m.format(m.value(base)),
      m.format(m.value(one)),
      ratio(m.value(one), m.value(base)),
      m.format(m.value(three)),
      ratio(m.value(three), m.value(base)),
      m.target?.[0] ?? '',
      m.target ? verdict(m.target[1](m.value(one), m.value(three))) : '',
    ]);
  const seq = (run: SetupRun) => run.admission.sequential;
  const con = (run: SetupRun) => run.admission.concurrent;
  const perAdmission = (run: SetupRun, pick: 'postgres' | 'redis') =>
    total(run.admission.sequentialCounts[pick]) / options.submits;
  const admissionTable: Table = {
    title: `Admission: ${num(options.submits)} sequential \`generateImage\` calls, then ${num(options.submits)} with ${options.concurrency} in flight, round-robin over the instances`,
    columns,
    rows: rowsOf([
      {
        name: 'latency p50, sequential',
        value: (r) => percentile(seq(r).latencies, 50),
        format: (v) => ms(v, 2),
        target: [
          `PostgreSQL ≤ ${SCALEOUT_TARGETS.admissionP50Ms} ms`,
          (a, b) => Math.max(a, b) <= SCALEOUT_TARGETS.admissionP50Ms,
        ],
      },
      {
        name: 'diagnostic: `store.admitJob` alone (timed inside the instance), p50, sequential',
        value: (r) => percentile(r.admission.storeSequential, 50),
        format: (v) => ms(v, 2),
      },
      {
        name: 'latency p99, sequential',
        value: (r) => percentile(seq(r).latencies, 99),
        format: (v) => ms(v, 2),
      },
      {
        name: 'jobs/s, sequential',
        value: (r) => throughput(seq(r)),
        format: (v) => `${num(v)}/s`,
      },
      {
        name: `latency p50, ${options.concurrency} in flight`,
        value: (r) => percentile(con(r).latencies, 50),
        format: (v) => ms(v, 2),
      },
      {
        name: `latency p99, ${options.concurrency} in flight`,
        value: (r) => percentile(con(r).latencies, 99),
        format: (v) => ms(v, 2),
      },
      {
        name: `diagnostic: \`store.admitJob\` alone, p50, ${options.concurrency} in flight`,
        value: (r) => percentile(r.admission.storeConcurrent, 50),
        format: (v) => ms(v, 2),
      },
      {
        name: `jobs/s, ${options.concurrency} in flight`,
        value: (r) => throughput(con(r)),
        format: (v) => `${num(v)}/s`,
      },
      {
        name: 'failed requests',
        value: (r) => seq(r).failures + con(r).failures,
        format: (v) => num(v),
        target: ['0', (a, b) => a === 0 && b === 0],
      },
      {
        name: 'PostgreSQL statements per job, sequential phase (admission + dispatch)',
        value: (r) => perAdmission(r, 'postgres'),
        format: (v) => num(v, 2),
      },
      {
        name: 'PostgreSQL round trips per job, sequential phase',
        value: (r) => r.admission.sequentialCounts.postgresRoundTrips / options.submits,
        format: (v) => num(v, 2),
      },
      {
        name: 'Redis commands per job, sequential phase',
        value: (r) => perAdmission(r, 'redis'),
        format: (v) => num(v, 2),
      },
    ]),
  };

  const fan = (run: SetupRun, pick: (r: FanoutRound) => number) => run.fanout.map(pick);
  const added = (run: SetupRun) =>
    median(fan(run, (r) => r.lastOthers)) - median(fan(base, (r) => r.lastAll));
  const fanoutTable: Table = {
    title: `${num(options.subscribers)} subscribers of one job spread over the instances (one WebSocket each, ${FANOUT_CLIENTS} client processes), ${options.rounds} status changes published on A`,
    columns,
    rows: rowsOf([
      {
        name: 'A → last delivery on B and C (one instance: anywhere), median of rounds',
        value: (r) => median(fan(r, (x) => x.lastOthers)),
        format: (v) => ms(v),
      },
      {
        name: '… minus the single-process figure',
        value: added,
        format: (v) => ms(v),
        target: [
          `≤ ${SCALEOUT_TARGETS.crossInstanceAddedMs} ms`,
          (_a, b) => b <= SCALEOUT_TARGETS.crossInstanceAddedMs,
        ],
      },
      {
        name: 'A → last delivery on B and C, worst round',
        value: (r) => Math.max(...fan(r, (x) => x.lastOthers)),
        format: (v) => ms(v),
      },
      {
        name: 'A → last delivery anywhere, median of rounds',
        value: (r) => median(fan(r, (x) => x.lastAll)),
        format: (v) => ms(v),
      },
      {
        name: 'delivery latency p50 on B and C, median of rounds',
        value: (r) => median(fan(r, (x) => x.p50Others)),
        format: (v) => ms(v),
      },
      {
        name: 'subscribed',
        value: (r) => r.fanoutReady,
        format: (v) => num(v),
        target: [num(options.subscribers), (a, b) => a === options.subscribers && b === a],
      },
      {
        name: 'deliveries with the new status, all rounds',
        value: (r) => r.fanout.reduce((sum, x) => sum + x.received, 0),
        format: (v) => num(v),
        target: [
          num(options.subscribers * options.rounds),
          (a, b) => a === options.subscribers * options.rounds && b === a,
        ],
      },
    ]),
  };

  const jobs = options.jobs;
  const pixazo = (run: SetupRun) =>
    [run.jobs.posts, ...run.jobs.getsPerJob.toSorted((a, b) => a - b), run.jobs.media].join(',');
  const background = (run: SetupRun, pick: 'postgres' | 'redis') => {
    const rate = pick === 'postgres' ? run.jobs.idlePostgresPerSecond : run.jobs.idleRedisPerSecond;
    return rate * run.setup.instances * (run.jobs.elapsedMs / 1000);
  };
  const jobsTable: Table = {
    title: `Per job: ${jobs} Turbo jobs run to completion (polling, simulator time scale ${options.timeScale ?? DEFAULT_TIME_SCALE}), each watched by one subscriber on another instance`,
    columns,
    rows: rowsOf([
      {
        name: 'Pixazo POSTs per job',
        value: (r) => r.jobs.posts / jobs,
        format: (v) => num(v, 2),
        target: [
          '1, same for ×1 and ×3',
          () => one.jobs.posts === jobs && three.jobs.posts === jobs,
        ],
      },
      {
        name: 'Pixazo status GETs per job',
        value: (r) => mean(r.jobs.getsPerJob),
        format: (v) => num(v, 2),
        target: ['same for ×1 and ×3', () => pixazo(one) === pixazo(three)],
      },
      {
        name: 'Pixazo image downloads per job',
        value: (r) => r.jobs.media / jobs,
        format: (v) => num(v, 2),
        target: ['same for ×1 and ×3', (a, b) => a === b],
      },
      {
        name: 'jobs COMPLETED',
        value: (r) => r.jobs.completed,
        format: (v) => num(v),
        target: [num(jobs), (a, b) => a === jobs && b === jobs],
      },
      {
        name: 'PostgreSQL statements per job (all instances, whole run)',
        value: (r) => total(r.jobs.counted.postgres) / jobs,
        format: (v) => num(v, 1),
      },
      {
        name: '… less the idle background (claims, heartbeats) for the run’s duration',
        value: (r) => (total(r.jobs.counted.postgres) - background(r, 'postgres')) / jobs,
        format: (v) => num(v, 1),
      },
      {
        name: 'PostgreSQL round trips per job (all instances, whole run)',
        value: (r) => r.jobs.counted.postgresRoundTrips / jobs,
        format: (v) => num(v, 1),
      },
      {
        name: 'PostgreSQL transactions per job (pg_stat_database of the bench database)',
        value: (r) => r.jobs.transactions / jobs,
        format: (v) => num(v, 1),
      },
      {
        name: 'Redis commands per job (all instances, whole run)',
        value: (r) => total(r.jobs.counted.redis) / jobs,
        format: (v) => num(v, 1),
      },
      {
        name: '… less the idle background',
        value: (r) => (total(r.jobs.counted.redis) - background(r, 'redis')) / jobs,
        format: (v) => num(v, 1),
      },
      {
        name: 'Redis: bytes PUBLISHed per job',
        value: (r) => r.jobs.counted.redisPublishedBytes / jobs,
        format: (v) => `${num(v / 1024, 1)} KB`,
      },
      {
        name: 'Redis: bytes sent on to subscribed instances per job (egress)',
        value: (r) => r.jobs.counted.redisDeliveredBytes / jobs,
        format: (v) => `${num(v / 1024, 1)} KB`,
      },
      {
        name: 'idle PostgreSQL statements per instance and second',
        value: (r) => r.jobs.idlePostgresPerSecond,
        format: (v) => num(v, 2),
      },
      {
        name: 'idle PostgreSQL round trips per instance and second',
        value: (r) => r.jobs.idlePostgresRoundTripsPerSecond,
        format: (v) => num(v, 2),
      },
      {
        name: 'idle Redis commands per instance and second',
        value: (r) => r.jobs.idleRedisPerSecond,
        format: (v) => num(v, 2),
      },
      {
        name: 'first submit → last job COMPLETED',
        value: (r) => r.jobs.elapsedMs,
        format: (v) => ms(v, 0),
      },
    ]),
  };

  const admissionNote = (run: SetupRun) =>
    `${run.setup.label}, per job of the sequential admission phase: PostgreSQL ${breakdown(run.admission.sequentialCounts.postgres, options.submits)}; Redis ${breakdown(run.admission.sequentialCounts.redis, options.submits)}.`;
  return {
    runs,
    report: {
      benchmark: 'scaleout',
      title: '(d) Scale-out: SQLite in one process vs PostgreSQL + Redis with 1 and 3 instances',
      tables: [admissionTable, fanoutTable, jobsTable],
      notes: [
        `This machine has ${os.cpus().length} cores shared by every process of the run (3 gateways, the simulator, the clients) and by whatever else runs on it (load average over 1 / 5 / 15 minutes: ${load(loadBefore)} at the start, ${load(loadAfter)} at the end): the figures measure the overhead of sharing state through PostgreSQL and Redis, and that the instances behave as one gateway, not a speed-up from more instances. Compare the columns of one run, not runs with each other.`,
        "Admission on PostgreSQL is one round trip: `BEGIN`, the key's lock, one statement that reads the usage and inserts the job and its charge only within the limits, and `COMMIT` go out together (the per-job statements below add dispatch: the claim under the dispatch lock, `submitting` and `submitted`). Every call here uses one API key with limits, so admissions of that key take turns on its lock, held from the lock statement through the commit's WAL flush: with 16 in flight the store's time is mostly that wait, and the key's admissions per second are bounded by one commit at a time (exact budgets). Keys (and end users under end-user limits) do not wait on each other.",
        `Fan-out with 3 instances: a third of the subscribers on each; A publishes once to Redis, which sends one copy to each instance. Each instance then writes to its own sockets, but the three gateway processes, the three client processes and the rest of the machine share ${os.cpus().length} cores, so the last delivery waits for the last of them to be scheduled; the 1-instance column is the Redis hop alone.`,
        admissionNote(one),
        admissionNote(three),
        `Per job with 3 instances, PostgreSQL: ${breakdown(three.jobs.counted.postgres, jobs)}. Redis: ${breakdown(three.jobs.counted.redis, jobs)}.`,
        `Pixazo calls (POSTs, status GETs per job sorted, image downloads): SQLite ${pixazo(base)}; ×1 ${pixazo(one)}; ×3 ${pixazo(three)}.`,
      ],
      method: [
        'Per setup, the Pixazo simulator and each gateway instance run in processes of their own (`startGateway`: SQLite in a temporary directory; or `DATABASE_URL` = a database created for the run and dropped after it, `REDIS_URL` with a random `REDIS_KEY_PREFIX` whose keys are deleted after it). The first instance creates an API key with every limit set (daily budget, concurrent jobs, requests per minute; none ever reached), so every admission takes the key lock, reads the usage and consumes the rate limit; PIXAZO_MAX_CONCURRENCY is 1000.',
        'Admission: 50 warm-up calls, then the sequential and the concurrent phase of `generateImage` over keep-alive HTTP from this process, the i-th call to instance i mod n (a round-robin load balancer). The simulator runs at time scale 100 and the first status poll comes after 10 minutes, so nothing but the admissions, their dispatch and their POSTs runs meanwhile. Latency is request start → last byte of the answer (the job admitted, QUEUED); jobs/s is calls / elapsed time.',
        `Fan-out: on the same instances, a job is created on A; ${FANOUT_CLIENTS} client processes open the subscribers (client i on instance i mod n: with 3 instances a third on each), each \`jobUpdated\` with the whole Job. A publishes a newer PROCESSING version through the gateway's pub/sub (in memory, or Redis to every instance), noting the wall clock just before; each client notes it on arrival. One warm-up round, then the measured rounds; a round whose deliveries are incomplete counts as n/a.`,
        `Per job: a fresh set of processes (the simulator at the time scale given, the gateway's poll schedule scaled with it; polling, no webhooks). ${jobs} jobs are admitted at once, round-robin, each watched by one subscriber on the next instance, until every one has completed. Statements and commands are counted inside every gateway process by wrapping node-postgres' \`Client.prototype.query\` and ioredis' \`sendCommand\` (bench/servers/command-counts.ts): the machine's PostgreSQL has no pg_stat_statements loaded, and Redis' INFO commandstats counts every user of the server. The idle background is the same count over ${IDLE_WINDOW_MS / 1000} s before the jobs, per instance. Transactions come from pg_stat_database of the run's own database, read before the jobs and after every instance stopped (a backend flushes its statistics as its connection ends). Pixazo calls come from the simulator's request log.`,
      ],
    },
  };
}

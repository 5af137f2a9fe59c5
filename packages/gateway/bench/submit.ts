/**
 * (b) Submit latency and throughput: `generateImage` through the gateway against the same
 * job POSTed straight to the Pixazo simulator (the baseline), sequentially and with requests
 * in flight concurrently. The simulator and the gateway each run in their own process; this
 * process is the client.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { toRequestBody, validateGenerateInput } from '@zimage/core';
import { type Phase, runPhase, type Target, throughput } from './lib/http-load.ts';
import type { BenchReport, Table } from './lib/report.ts';
import { verdict } from './lib/report.ts';
import { type ChildHandle, startChild } from './lib/rpc.ts';
import { mean, ms, num, percentile, ratio, sleep } from './lib/stats.ts';
import type { SqliteCounts } from './servers/command-counts.ts';
import type { StartedServer } from './servers/server-process.ts';

export interface SubmitOptions {
  /** Requests per phase (sequential, concurrent) and target. */
  requests: number;
  /** In flight at once in the concurrent phase. */
  concurrency: number;
  /** Write a CPU profile of the gateway process during its measured phases here. */
  profileDir?: string | undefined;
  log?: (line: string) => void;
}

/** Issue #16's targets, as ratios to the baseline of the same run. */
export const SUBMIT_TARGETS = { sequentialP50Ratio: 3, concurrentThroughputRatio: 0.3 };

const PROMPT = 'a red bicycle leaning on a stone wall, morning light';
const GENERATE = `mutation ($input: GenerateImageInput!) {
  generateImage(input: $input) { id status }
}`;

/** Where a gateway can keep its database in memory (no fsync cost), for the diagnostic run. */
const TMPFS = '/dev/shm';

async function startGatewayProcess(
  name: string,
  pixazoUrl: string,
  dataDir: string | undefined,
): Promise<{ process: ChildHandle; server: StartedServer }> {
  const child = await startChild(name, 'servers/server-process.ts');
  try {
    const server = await child.call<StartedServer>('startGateway', {
      pixazoUrl,
      dataDir,
      maxConcurrency: 1000,
      instrument: true,
      pollSchedule: { firstDelayMs: 600_000, minIntervalMs: 600_000, maxIntervalMs: 600_000 },
    });
    return { process: child, server };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

const sqliteCounts = (gateway: ChildHandle) => gateway.call<SqliteCounts>('sqliteCounts');

/** Commits and writes per job of a phase of `jobs` submits, and writes per commit. */
const commitsBetween = (before: SqliteCounts, after: SqliteCounts, jobs: number) => {
  const commits = after.commits - before.commits;
  const writes = after.writes - before.writes;
  return { perJob: commits / jobs, writesPerJob: writes / jobs, writesPerCommit: writes / commits };
};
type Commits = ReturnType<typeof commitsBetween>;

/** `{ viewer { keyPrefix } }`: authenticated, no job, nothing written. */
function viewerTarget(server: StartedServer): Target {
  return {
    ...gatewayTarget(server),
    body: JSON.stringify({ query: '{ viewer { keyPrefix } }' }),
    accepted: (status, body) => status === 200 && body.includes('"keyPrefix"'),
  };
}

export function gatewayTarget(server: StartedServer): Target {
  return {
    name: 'gateway',
    url: new URL('/graphql', server.url),
    headers: { authorization: `Bearer ${server.key}` },
    body: JSON.stringify({
      query: GENERATE,
      variables: { input: { model: 'Z_IMAGE_TURBO', prompt: PROMPT, imageSize: 'SQUARE_1_1' } },
    }),
    accepted: (status, body) => status === 200 && body.includes('"status":"QUEUED"'),
  };
}

export async function runSubmit(options: SubmitOptions): Promise<{ report: BenchReport }> {
  const log = options.log ?? (() => {});
  const children: ChildHandle[] = [];
  let tmpfsDir: string | null = null;
  // The gateway holds at most 1000 jobs at Pixazo (its maximum PIXAZO_MAX_CONCURRENCY), and
  // every measured job must be POSTed right away.
  const warmUp = Math.min(50, options.requests);
  if (warmUp + 2 * options.requests > 1000) {
    throw new Error('--submits: at most 475 (the gateway keeps at most 1000 jobs at Pixazo)');
  }
  try {
    // Long jobs (time scale 100) and a first poll after 10 minutes: nothing but the submits
    // themselves happens while they are measured.
    const sim = await startChild('simulator', 'servers/server-process.ts');
    children.push(sim);
    const simServer = await sim.call<StartedServer>('startSim', { timeScale: 100 });
    const params = validateGenerateInput({
      model: 'turbo',
      prompt: PROMPT,
      imageSize: 'square_1_1',
    });
    const direct: Target = {
      name: 'simulator',
      url: new URL('/z-image-turbo-834/v1/z-image-turbo-request', simServer.url),
      headers: { 'ocp-apim-subscription-key': simServer.key as string },
      body: JSON.stringify(toRequestBody(params)),
      accepted: (status) => status === 202,
    };

    // The gateway as deployed: its database in a temporary directory on the disk.
    const main = await startGatewayProcess('gateway', simServer.url, undefined);
    children.push(main.process);
    const viaGateway = gatewayTarget(main.server);
    await runPhase(direct, warmUp, 4);
    await runPhase(viaGateway, warmUp, 4);
    await sleep(500);

    const seqDirect = await runPhase(direct, options.requests, 1);
    await sleep(300);
    await sim.call('clearSimRequests');
    if (options.profileDir) await main.process.call('profileStart');
    const beforeSeq = await sqliteCounts(main.process);
    const seqGateway = await runPhase(viaGateway, options.requests, 1);
    await sleep(500);
    const seqCommits = commitsBetween(
      beforeSeq,
      await sqliteCounts(main.process),
      options.requests,
    );
    const posts = await sim.call<{ at: string }[]>('simRequests', { route: 'submit' });
    const pixazoArrivals = posts.map((p) => Date.parse(p.at));
    log(
      `  sequential p50: direct ${ms(percentile(seqDirect.latencies, 50), 2)}, gateway ${ms(percentile(seqGateway.latencies, 50), 2)}`,
    );
    await sleep(300);
    const conDirect = await runPhase(direct, options.requests, options.concurrency);
    await sleep(300);
    const beforeCon = await sqliteCounts(main.process);
    const conGateway = await runPhase(viaGateway, options.requests, options.concurrency);
    await sleep(500);
    const conCommits = commitsBetween(
      beforeCon,
      await sqliteCounts(main.process),
      options.requests,
    );
    if (options.profileDir) {
      await mkdir(options.profileDir, { recursive: true });
      const file = path.join(options.profileDir, 'submit-gateway.cpuprofile');
      log(`  profile: ${await main.process.call<string>('profileStop', { file })}`);
    }
    log(
      `  ${options.concurrency} in flight: direct ${num(throughput(conDirect))}/s, gateway ${num(throughput(conGateway))}/s`,
    );
    // Diagnostic: the same gateway answering a query that makes no job, for what GraphQL over
    // HTTP and authentication alone cost on this machine.
    const viewer = viewerTarget(main.server);
    await runPhase(viewer, warmUp, 4);
    const floor = {
      seq: await runPhase(viewer, options.requests, 1),
      con: await runPhase(viewer, options.requests, options.concurrency),
    };
    await main.process.stop();

    // Diagnostic: the same gateway with its database on tmpfs, where a commit's fsync costs
    // nothing, to tell the durability cost from the rest of the gateway's overhead.
    let tmpfs: { seq: Phase; con: Phase } | null = null;
    if (existsSync(TMPFS)) {
      tmpfsDir = await mkdtemp(path.join(TMPFS, 'zimage-bench-'));
      const memory = await startGatewayProcess('gateway (tmpfs)', simServer.url, tmpfsDir);
      children.push(memory.process);
      const target = gatewayTarget(memory.server);
      await runPhase(target, warmUp, 4);
      await sleep(300);
      const seq = await runPhase(target, options.requests, 1);
      await sleep(300);
      const con = await runPhase(target, options.requests, options.concurrency);
      tmpfs = { seq, con };
      log(
        `  database on tmpfs: sequential p50 ${ms(percentile(seq.latencies, 50), 2)}, ${num(throughput(con))}/s with ${options.concurrency} in flight`,
      );
      await memory.process.stop();
    }

    // Sequential requests are POSTed to Pixazo in order: the i-th POST is the i-th job's.
    const toPixazo = seqGateway.sentAt
      .slice(0, pixazoArrivals.length)
      .map((sent, i) => (pixazoArrivals[i] as number) - sent);

    const table = (
      title: string,
      d: Phase,
      g: Phase,
      t: Phase | undefined,
      f: Phase,
      sequential: boolean,
      commits: Commits,
    ): Table => {
      const stat = (phase: Phase | undefined, f: (p: Phase) => number, digits = 2) =>
        phase ? ms(f(phase), digits) : 'n/a';
      const p50 = (p: Phase) => percentile(p.latencies, 50);
      const p99 = (p: Phase) => percentile(p.latencies, 99);
      const avg = (p: Phase) => mean(p.latencies);
      /** A row with a figure of the gateway's alone. */
      const gatewayOnly = (label: string, value: string) => [
        label,
        '',
        value,
        '',
        '',
        '',
        '',
        '',
        '',
      ];
      /** A latency row: both sides, their ratio and difference, a target if any, diagnostics. */
      const latencyRow = (
        label: string,
        of: (p: Phase) => number,
        target: [string, string] = ['', ''],
        tmpfs = stat(t, of),
      ) => [
        label,
        stat(d, of),
        stat(g, of),
        ratio(of(g), of(d)),
        ms(of(g) - of(d), 2),
        ...target,
        tmpfs,
        `${stat(f, of)} (${ratio(of(f), of(d))})`,
      ];
      const rows = [
        latencyRow(
          'latency p50',
          p50,
          sequential
            ? [
                `≤ ${SUBMIT_TARGETS.sequentialP50Ratio}× baseline`,
                verdict(p50(g) <= SUBMIT_TARGETS.sequentialP50Ratio * p50(d)),
              ]
            : undefined,
          t ? `${stat(t, p50)} (overhead ${ms(p50(t) - p50(d), 2)})` : 'n/a',
        ),
        latencyRow('latency p99', p99),
        latencyRow('latency mean', avg),
        [
          'throughput',
          `${num(throughput(d))}/s`,
          `${num(throughput(g))}/s`,
          ratio(throughput(g), throughput(d)),
          '',
          ...(sequential
            ? ['', '']
            : [
                `≥ ${SUBMIT_TARGETS.concurrentThroughputRatio}× baseline`,
                verdict(throughput(g) >= SUBMIT_TARGETS.concurrentThroughputRatio * throughput(d)),
              ]),
          t ? `${num(throughput(t))}/s` : 'n/a',
          `${num(throughput(f))}/s (${ratio(throughput(f), throughput(d))})`,
        ],
        gatewayOnly(
          'SQLite commits per job (fsyncs), and writes per job',
          `${commits.perJob.toFixed(2)} (${commits.writesPerJob.toFixed(2)} writes)`,
        ),
        gatewayOnly('writes per commit (group commit)', commits.writesPerCommit.toFixed(2)),
        [
          'failed requests',
          String(d.failures),
          String(g.failures),
          '',
          '',
          '0',
          verdict(g.failures === 0),
          t ? String(t.failures) : 'n/a',
          String(f.failures),
        ],
      ];
      if (sequential && toPixazo.length) {
        rows.push(
          gatewayOnly(
            'generateImage sent → its POST reaches Pixazo, p50 / p99 (1 ms clock)',
            `${ms(percentile(toPixazo, 50), 0)} / ${ms(percentile(toPixazo, 99), 0)}`,
          ),
        );
      }
      return {
        title,
        columns: [
          'metric',
          'straight to the simulator (baseline)',
          'through the gateway',
          'gateway / baseline',
          'gateway − baseline',
          'target',
          'result',
          'diagnostic: gateway with its database on tmpfs',
          'diagnostic: `{ viewer { keyPrefix } }` through the gateway (no job; / baseline)',
        ],
        rows,
      };
    };

    return {
      report: {
        benchmark: 'submit',
        title: '(b) Submit latency and throughput: gateway vs straight to the simulator',
        tables: [
          table(
            `${num(options.requests)} sequential submits (1 in flight)`,
            seqDirect,
            seqGateway,
            tmpfs?.seq,
            floor.seq,
            true,
            seqCommits,
          ),
          table(
            `${num(options.requests)} submits, ${options.concurrency} in flight`,
            conDirect,
            conGateway,
            tmpfs?.con,
            floor.con,
            false,
            conCommits,
          ),
        ],
        notes: [
          "`generateImage` answers once the job is admitted and stored (QUEUED); the gateway POSTs it to Pixazo right after, in the background, so its answer does not wait for Pixazo's. The last row of the first table shows when that POST reached the simulator.",
          "A job's writes are its admission, its claim (`submitting`, before the POST) and `submitted` (after it), each durable (WAL, synchronous FULL: a job is never POSTed twice after a power loss). The store group-commits: the writes of one turn of the event loop share one transaction and one fsync, each settling only once committed, and a claim made right after an admission shares its commit; the commit rows count them. The diagnostic column runs the same gateway with its database on tmpfs, where fsync costs nothing: the difference to the main column is the durability cost on this machine's disk, the rest is GraphQL, authentication, admission and the store's own work. The last column is the same gateway answering `{ viewer { keyPrefix } }`, which makes no job: GraphQL over HTTP and authentication alone.",
          `Targets (issue #16): sequential latency p50 within ${SUBMIT_TARGETS.sequentialP50Ratio}× the baseline's, throughput with ${options.concurrency} in flight at least ${SUBMIT_TARGETS.concurrentThroughputRatio}× the baseline's. The baseline is the simulator's own POST handler, so every figure of the gateway also carries that POST (sent in the background) and the simulator's work for it on the same 2 cores.`,
        ],
        method: [
          'The Pixazo simulator (no rate limit, a large balance, time scale 100 so no job ends during the run) and the gateway (`startGateway`: its database in a temporary directory, an API key without limits, PIXAZO_MAX_CONCURRENCY 1000, first status poll after 10 minutes) run in separate processes; this process is the client, over keep-alive HTTP connections (node:http).',
          `Baseline: the simulator's \`POST /z-image-turbo-834/v1/z-image-turbo-request\` with the body the gateway sends for the same job (core's \`toRequestBody\`). Gateway: \`generateImage(input: {model: Z_IMAGE_TURBO, prompt, imageSize: SQUARE_1_1}) { id status }\` over HTTP POST. ${num(warmUp)} warm-up requests each first; then ${num(options.requests)} sequential requests to each, then ${num(options.requests)} with ${options.concurrency} in flight. Latency is request start → last byte of the answer; throughput is requests / elapsed time of the phase.`,
        ],
      },
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
    if (tmpfsDir) await rm(tmpfsDir, { recursive: true, force: true });
  }
}

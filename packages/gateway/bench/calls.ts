/**
 * (c) Pixazo calls per job: POSTs and status GETs the simulator received for each job, with
 * the gateway polling and with Pixazo's webhooks, and with 1 or many graphql-ws watchers on
 * each job. Baseline: the same jobs followed without a gateway, each watcher polling Pixazo
 * itself with core's PixazoClient on the same schedule.
 */
import {
  DEFAULT_POLL_SCHEDULE,
  expectedDurationMs,
  MODELS,
  PixazoClient,
  type PollSchedule,
} from '@zimage/core';
import type { WatchResult } from './clients/ws-client-process.ts';
import { JOB_UPDATED } from './fanout.ts';
import type { BenchReport, Table } from './lib/report.ts';
import { verdict } from './lib/report.ts';
import { type ChildHandle, startChild } from './lib/rpc.ts';
import { mean, num, shares } from './lib/stats.ts';
import type { StartedServer } from './servers/server-process.ts';

export interface CallsOptions {
  /** Jobs per configuration. */
  jobs: number;
  /** Watchers per job, e.g. [1, 100]. */
  watchers: number[];
  /** Client processes the watchers are spread over. */
  clientProcesses?: number;
  /** Simulated time scale; the gateway's schedules are scaled with it. Default 0.25. */
  timeScale?: number | undefined;
  log?: (line: string) => void;
}

type Mode = 'polling' | 'webhooks' | 'direct';

/** Simulated time runs this much faster; the gateway's schedules are scaled to match. */
const DEFAULT_TIME_SCALE = 0.25;
const PROMPT = 'a paper boat on a puddle';
const TURBO = MODELS.turbo;
const EXPECTED_MS = expectedDurationMs(TURBO, {
  numInferenceSteps: TURBO.steps.default,
  numImages: 1,
  acceleration: TURBO.defaultAcceleration,
});

/** core's default schedule with its floor and cap scaled (its marks follow the expected duration). */
export function pollSchedule(scale: number): PollSchedule {
  return {
    ...DEFAULT_POLL_SCHEDULE,
    minIntervalMs: DEFAULT_POLL_SCHEDULE.minIntervalMs * scale,
    maxIntervalMs: DEFAULT_POLL_SCHEDULE.maxIntervalMs * scale,
  };
}

/**
 * Webhook mode's status GETs per job, on average: the reads until PROCESSING (Pixazo calls
 * back only at the end) and the one confirming the callback.
 */
const WEBHOOK_MAX_GETS_PER_JOB = 3;

/** The gateway's default webhook safety net (first at 2× expected, then every 45 s), scaled. */
export function safetyNet(scale: number) {
  return { firstDelayMs: 2 * EXPECTED_MS * scale, intervalMs: 45_000 * scale };
}

interface Measured {
  mode: Mode;
  watchers: number;
  posts: number;
  /** Status GETs per job, in job order. */
  getsPerJob: number[];
  media: number;
  /** Watchers that received a state before the job ended (they watched it live). */
  liveWatchers: number;
  completedWatchers: number;
  finished: number;
}

interface LogEntry {
  path: string;
  route: string;
  method: string;
}

export async function countCalls(sim: ChildHandle, requestIds: string[]) {
  const entries = await sim.call<LogEntry[]>('simRequests', {});
  return {
    posts: entries.filter((e) => e.route === 'submit').length,
    media: entries.filter((e) => e.route === 'media').length,
    getsPerJob: requestIds.map(
      (id) => entries.filter((e) => e.route === 'status' && e.path.endsWith(`/${id}`)).length,
    ),
  };
}

async function graphql<T>(server: StartedServer, query: string, variables: object): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`gateway answered ${JSON.stringify(body)}`);
  return body.data;
}

async function throughGateway(
  mode: 'polling' | 'webhooks',
  watchers: number,
  options: CallsOptions,
): Promise<Measured> {
  const children: ChildHandle[] = [];
  try {
    // A fresh simulator (same seed) per configuration: the same job durations every time.
    const sim = await startChild('simulator', 'servers/server-process.ts');
    children.push(sim);
    const scale = options.timeScale ?? DEFAULT_TIME_SCALE;
    const simServer = await sim.call<StartedServer>('startSim', { timeScale: scale });
    const gatewayProcess = await startChild('gateway', 'servers/server-process.ts');
    children.push(gatewayProcess);
    const gateway = await gatewayProcess.call<StartedServer>('startGateway', {
      pixazoUrl: simServer.url,
      webhooks: mode === 'webhooks',
      pollSchedule: pollSchedule(scale),
      durationScale: scale,
      safetyNet: safetyNet(scale),
    });
    const total = options.jobs * watchers;
    const counts = shares(total, Math.min(options.clientProcesses ?? 2, total));
    const clients: ChildHandle[] = [];
    for (let i = 0; i < counts.length; i++) {
      const client = await startChild(`client ${i}`, 'clients/ws-client-process.ts');
      children.push(client);
      clients.push(client);
    }
    // Watchers are connected (and authenticated) before the jobs exist, so that subscribing
    // is one message and they watch each job from its start.
    await Promise.all(
      clients.map((client, i) =>
        client.call('connect', {
          url: gateway.wsUrl,
          count: counts[i],
          connectionParams: { authorization: `Bearer ${gateway.key}` },
        }),
      ),
    );
    const ids = await Promise.all(
      Array.from({ length: options.jobs }, async () => {
        const data = await graphql<{ generateImage: { id: string } }>(
          gateway,
          'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
          { input: { model: 'Z_IMAGE_TURBO', prompt: PROMPT, imageSize: 'SQUARE_1_1' } },
        );
        return data.generateImage.id;
      }),
    );
    // Socket k (over all clients, in order) watches job floor(k / watchers).
    let offset = 0;
    await Promise.all(
      clients.map((client, i) => {
        const variables = Array.from({ length: counts[i] as number }, (_, k) => ({
          id: ids[Math.floor((offset + k) / watchers)],
        }));
        offset += counts[i] as number;
        return client.call('subscribe', { query: JOB_UPDATED, variables, perVariables: 1 });
      }),
    );
    const watched = await Promise.all(
      clients.map((client) => client.call<WatchResult>('watch', { timeoutMs: 60_000 })),
    );
    const jobs = await Promise.all(
      ids.map(async (id) => {
        const data = await graphql<{ job: { status: string; requestId: string } }>(
          gateway,
          'query ($id: ID!) { job(id: $id) { status requestId } }',
          { id },
        );
        return data.job;
      }),
    );
    const statuses = watched.flatMap((w) => w.statuses);
    const calls = await countCalls(
      sim,
      jobs.map((job) => job.requestId),
    );
    return {
      mode,
      watchers,
      ...calls,
      liveWatchers: statuses.filter((s) => s.length > 1).length,
      completedWatchers: watched.reduce((sum, w) => sum + w.completed, 0),
      finished: jobs.filter((job) => job.status === 'COMPLETED').length,
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

/** Without a gateway: one submit per job, then every watcher polls Pixazo on its own. */
async function direct(watchers: number, options: CallsOptions): Promise<Measured> {
  const sim = await startChild('simulator', 'servers/server-process.ts');
  try {
    const scale = options.timeScale ?? DEFAULT_TIME_SCALE;
    const simServer = await sim.call<StartedServer>('startSim', { timeScale: scale });
    const pixazo = new PixazoClient({
      apiKey: simServer.key as string,
      baseUrl: simServer.url,
      pollSchedule: pollSchedule(scale),
    });
    const input = { model: 'turbo', prompt: PROMPT, imageSize: 'square_1_1' } as const;
    const submissions = await Promise.all(
      Array.from({ length: options.jobs }, () => pixazo.submit(input)),
    );
    const outcomes = await Promise.all(
      submissions.flatMap((submission) =>
        Array.from({ length: watchers }, () =>
          pixazo
            .waitForCompletion(submission.requestId, {
              expectedDurationMs: EXPECTED_MS * scale,
              timeoutMs: 60_000,
            })
            .then(() => true),
        ),
      ),
    );
    const calls = await countCalls(
      sim,
      submissions.map((s) => s.requestId),
    );
    return {
      mode: 'direct',
      watchers,
      ...calls,
      liveWatchers: outcomes.length,
      completedWatchers: outcomes.filter(Boolean).length,
      finished: options.jobs,
    };
  } finally {
    await sim.stop();
  }
}

export async function runCalls(options: CallsOptions): Promise<{
  report: BenchReport;
  measured: Measured[];
}> {
  const log = options.log ?? (() => {});
  const measured: Measured[] = [];
  for (const mode of ['polling', 'webhooks', 'direct'] as const) {
    for (const watchers of options.watchers) {
      const m =
        mode === 'direct'
          ? await direct(watchers, options)
          : await throughGateway(mode, watchers, options);
      measured.push(m);
      log(
        `  ${mode}, ${watchers} watcher(s)/job: ${m.posts / options.jobs} POST, ${mean(m.getsPerJob)} GET per job`,
      );
    }
  }

  const fewest = Math.min(...options.watchers);
  const find = (mode: Mode, watchers: number) =>
    measured.find((m) => m.mode === mode && m.watchers === watchers) as Measured;
  const perJob = (m: Measured) => ({
    posts: m.posts / options.jobs,
    gets: mean(m.getsPerJob),
  });
  const rows: string[][] = [];
  for (const mode of ['polling', 'webhooks'] as const) {
    for (const watchers of options.watchers) {
      const m = find(mode, watchers);
      const base = find('direct', watchers);
      const fewer = find(mode, fewest);
      const { posts, gets } = perJob(m);
      const independent = gets <= perJob(fewer).gets + 0.5;
      const withinTarget = mode === 'polling' || gets <= WEBHOOK_MAX_GETS_PER_JOB;
      rows.push([
        mode,
        num(watchers),
        `${num(posts, 2)} (${verdict(m.posts === options.jobs)})`,
        `${num(gets, 1)} [${m.getsPerJob.join(', ')}]`,
        `${num(perJob(base).gets, 1)}`,
        perJob(base).gets ? `${(gets / perJob(base).gets).toFixed(2)}×` : 'n/a',
        num(m.media / options.jobs, 1),
        `${m.liveWatchers}/${m.completedWatchers}/${options.jobs * watchers}`,
        `${m.finished}/${options.jobs}`,
        watchers === fewest
          ? verdict(m.posts === options.jobs && withinTarget)
          : verdict(m.posts === options.jobs && independent && withinTarget),
      ]);
    }
  }
  const table: Table = {
    title: `Pixazo calls per job (${options.jobs} Turbo jobs per row, simulator time scale ${options.timeScale ?? DEFAULT_TIME_SCALE})`,
    columns: [
      'tracking',
      'watchers / job',
      'POSTs / job (exactly 1)',
      `status GETs / job [per job] (webhooks: ≤ ${WEBHOOK_MAX_GETS_PER_JOB})`,
      'baseline GETs / job (each watcher polls)',
      'gateway / baseline',
      'image GETs / job',
      'watchers live / completed / total',
      'jobs COMPLETED',
      'result',
    ],
    rows,
  };
  return {
    measured,
    report: {
      benchmark: 'calls',
      title: '(c) Pixazo calls per job: polling vs webhooks, 1 and many watchers',
      tables: [table],
      notes: [
        `Targets: exactly one POST per job; status GETs per job independent of the number of watchers (PASS when the mean with more watchers is within 0.5 of the mean with ${fewest}); with webhooks, at most ${WEBHOOK_MAX_GETS_PER_JOB} status GETs per job on average.`,
        "Polling: status GETs follow core's schedule (at 0.9, 1 and 1.15 of the expected duration, then backing off ×1.5, 1–8 s apart; here scaled to the simulator's time), so a job needs one to three. Webhooks: Pixazo calls back only on the terminal state, so the gateway reads the status on the same schedule while the job is QUEUED, to show PROCESSING, and stops once Pixazo says PROCESSING (or done); it confirms the callback with one GET (callbacks are not signed), and its safety-net poll (2× the expected duration) does not fire for a job that ends on time.",
      ],
      method: [
        `Per row, a fresh simulator (its own process, same seed, so the same job durations; time scale ${options.timeScale ?? DEFAULT_TIME_SCALE}, no rate limit) and a fresh gateway (its own process; polling: PUBLIC_URL unset; webhooks: PUBLIC_URL = the gateway's own address) with its poll schedule and safety net scaled by the same factor. The watchers (graphql-ws, one WebSocket each, in client processes) connect first; then ${options.jobs} jobs are submitted with \`generateImage\` at once and every watcher subscribes to \`jobUpdated\` of its job and waits for it to complete. "Live" watchers received a state before the terminal one.`,
        "Calls are counted from the simulator's request log: submit POSTs, status GETs by request id, and image downloads (the CDN route).",
        'Baseline: the same jobs without a gateway: one `PixazoClient.submit` per job, then each watcher runs its own `waitForCompletion` (core) on the same scaled schedule.',
      ],
    },
  };
}

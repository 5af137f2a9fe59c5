/**
 * The seeded fault storm of issue 10: about a hundred jobs over three gateway PROCESSES on one
 * PostgreSQL database and one Redis prefix, with the simulator in a process of its own as
 * Pixazo, faults on (429s, 500s, slow and dropped answers, duplicate and stale webhooks, FAILED
 * and ERROR jobs), while a random instance is SIGKILLed and started again every 14 to 24 jobs
 * admitted, then every 10 to 20 jobs ended. Two instances run in webhook mode behind a TCP load
 * balancer (their PUBLIC_URL), so a callback lands on whichever instance is up; the third polls.
 * Clients submit to random live instances and, when one dies under them, repeat the request
 * elsewhere with the same idempotency key.
 *
 * Then: every job is terminal; no job was created twice; Pixazo got at most one accepted POST
 * per job (its job list, by prompt) and no second POST past a 429; the usage ledger equals the
 * jobs' costs, keeps every budget, and never refunds what Pixazo billed; every COMPLETED job's
 * images are served by a live instance and decode at the requested size.
 *
 * A kill between a webhook-mode job's claim and its POST's arrival leaves that job waiting out
 * its deadline (about 70 s here) for a callback that cannot come, then ERROR with its charge,
 * never re-sent: by design, and the reason an unlucky run takes that much longer.
 *
 * Every choice (the jobs, who sends them, where they go, when and whom to kill, the
 * simulator's fault draws) comes from one seed, printed at the start; STORM_SEED=<n> replays
 * those choices (the processes' timing still varies).
 */
import { randomInt } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PIXEL_SIZES } from '@zimage/core';
import { type FaultsUpdate, type JobSummary, seededRandom } from '@zimage/pixazo-sim';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.ts';
import type { Redis } from '../src/redis.ts';
import { openStore } from '../src/store/open-store.ts';
import { graphqlAt } from './helpers/gateway-client.ts';
import { queryDatabase, usePostgresDatabase } from './helpers/postgres.ts';
import {
  gatewayStarted,
  type RunningProcess,
  startProcess,
  stopProcess,
} from './helpers/processes.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testKeyPrefix } from './helpers/redis.ts';
import { type SimProcess, startSimProcessWithOptions } from './helpers/sim-process.ts';
import { startTcpProxy, type TcpProxy, throughProxy } from './helpers/tcp-proxy.ts';

const SEED = Number(process.env.STORM_SEED ?? randomInt(2 ** 31));
console.log(`scale-out storm: seed ${SEED} (replay its choices with STORM_SEED=${SEED})`);
/** Separate streams, so that one kind of choice never shifts another's. */
const plan = seededRandom(SEED);
const chaos = seededRandom(SEED ^ 0x5bd1e995);
const routing = seededRandom(SEED ^ 0x27d4eb2f);
const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;
const between = (random: () => number, min: number, max: number) =>
  min + Math.floor(random() * (max - min + 1));

const JOB_COUNT = 100;
const PIXAZO_KEY = 'storm-pixazo-key';
const ADMIN_API_KEY = 'zk_admin-secret-of-the-fault-storm';
const TERMINAL = ['COMPLETED', 'FAILED', 'ERROR', 'CANCELLED'];

const SIM_FAULTS: FaultsUpdate = {
  rateLimit: { probability: 0.05, route: 'any', retryAfterSeconds: 1 },
  serverError: { probability: 0.1, route: 'status' },
  // Past PIXAZO_SUBMIT_TIMEOUT_SECONDS: accepted, but the gateway cannot know it.
  slow: { probability: 0.08, route: 'submit', delayMs: 2500 },
  drop: { probability: 0.05, route: 'submit' },
  // No lost callbacks on purpose: one of a job whose POST had no answer leaves the gateway
  // nothing but its deadline (70 s here; job-engine.unknown-outcome.test.ts). Kills lose some.
  webhookDuplicate: { probability: 0.3, stale: true },
  jobFailed: { probability: 0.05 },
  jobError: { probability: 0.05 },
};

/** Who sends the jobs: keys with and without budgets, and an act-as key for end users. */
const PRINCIPALS = [
  { name: 'budgeted app', weight: 4, dailyBudgetUsd: 0.35, endUsers: [] },
  { name: 'unlimited app', weight: 2, dailyBudgetUsd: null, endUsers: [] },
  {
    name: 'bot',
    weight: 4,
    dailyBudgetUsd: 0.5,
    endUserDailyBudgetUsd: 0.08,
    endUsers: ['u1', 'u2', 'u3', 'u4'],
  },
] as const;

const IMAGE_SIZES = ['SQUARE_1_1', 'LANDSCAPE_4_3', 'PORTRAIT_3_4'] as const;
const FORMATS = ['PNG', 'JPEG', 'WEBP'] as const;

interface PlannedJob {
  index: number;
  principal: (typeof PRINCIPALS)[number];
  input: {
    prompt: string;
    imageSize: (typeof IMAGE_SIZES)[number];
    numImages: number;
    numInferenceSteps: number;
    outputFormat: (typeof FORMATS)[number];
    idempotencyKey: string;
    endUserId?: string;
  };
}

const weighted = PRINCIPALS.flatMap((p) => Array.from({ length: p.weight }, () => p));
const JOBS: PlannedJob[] = Array.from({ length: JOB_COUNT }, (_, index) => {
  const principal = pick(plan, weighted);
  const endUserId = principal.endUsers.length > 0 ? pick(plan, principal.endUsers) : null;
  return {
    index,
    principal,
    input: {
      prompt: `storm ${SEED} job ${index}`,
      imageSize: pick(plan, IMAGE_SIZES),
      numImages: between(plan, 1, 2),
      // Few steps: a short expected duration, which paces the gateway's polls and safety nets.
      numInferenceSteps: between(plan, 1, 3),
      outputFormat: pick(plan, FORMATS),
      idempotencyKey: `storm-${index}`,
      ...(endUserId === null ? {} : { endUserId }),
    },
  };
});

const database = usePostgresDatabase();
const keyPrefix = testKeyPrefix();
let dataDir: string;
let sim: SimProcess;
let balancer: TcpProxy;
let redis: Redis;
let events: Redis;
const secrets = new Map<string, string>();
const keyIds = new Map<string, string>();

/** One gateway slot: its process when up, and its URL once it said it listens. */
interface Instance {
  /** PUBLIC_URL is the balancer's: Pixazo calls back (else the instance polls). */
  webhooks: boolean;
  run: RunningProcess | null;
  url: string | null;
}
const instances: Instance[] = [0, 1, 2].map((slot) => ({
  webhooks: slot < 2,
  run: null,
  url: null,
}));
const live = () => instances.filter((i) => i.url !== null);

async function startInstance(instance: Instance): Promise<void> {
  const run = startProcess('src/main.ts', {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    ADMIN_API_KEY,
    PIXAZO_API_KEY: PIXAZO_KEY,
    PIXAZO_BASE_URL: sim.url,
    PIXAZO_MAX_CONCURRENCY: '12',
    // A killed instance's jobs are adopted within seconds; its mid-POST ones 2 s later.
    INSTANCE_HEARTBEAT_SECONDS: '1',
    INSTANCE_TTL_SECONDS: '4',
    PIXAZO_SUBMIT_TIMEOUT_SECONDS: '2',
    ...(instance.webhooks ? { PUBLIC_URL: throughProxy(balancer, 'http://127.0.0.1') } : {}),
  });
  instance.run = run;
  // An instance that ends by itself crashed: the storm must not bring one down.
  run.child.once('exit', (code, signal) => {
    if (!killed.has(run)) crashes.push(`exit ${code ?? signal}: ${run.stderr().slice(-2000)}`);
  });
  instance.url = await gatewayStarted(run);
  lifecycle.emit('up');
}
/** The processes the chaos (or afterAll) killed, and what ended any other one. */
const killed = new WeakSet<RunningProcess>();
const crashes: string[] = [];
/** Says 'up' whenever an instance has started. */
const lifecycle = new EventEmitter();

let kills = 0;
const restartMs: number[] = [];

/** SIGKILL: nothing is sent to it any more, and nothing of it runs on. */
async function kill(instance: Instance): Promise<void> {
  instance.url = null;
  const run = instance.run as RunningProcess;
  killed.add(run);
  await stopProcess(run.child, 'SIGKILL');
  kills++;
}

/** The principals' keys, made before any instance starts. */
async function createKeys(): Promise<void> {
  const store = await openStore({ dataDir, databaseUrl: database.url });
  try {
    for (const principal of PRINCIPALS) {
      const budget = (usd: number | null | undefined) =>
        usd == null ? null : Math.round(usd * 1_000_000);
      const { secret, record } = await createApiKey(store, {
        name: principal.name,
        scopes:
          principal.endUsers.length > 0 ? ['generate', 'read', 'act-as'] : ['generate', 'read'],
        limits: {
          dailyBudgetMicroUsd: budget(principal.dailyBudgetUsd),
          maxConcurrentJobs: null,
          requestsPerMinute: null,
        },
        endUserLimits: {
          dailyBudgetMicroUsd: budget(
            'endUserDailyBudgetUsd' in principal ? principal.endUserDailyBudgetUsd : null,
          ),
          maxConcurrentJobs: null,
          requestsPerMinute: null,
        },
      });
      secrets.set(principal.name, secret);
      keyIds.set(principal.name, record.id);
    }
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-storm-'));
  redis = await connectTestRedis();
  // Meanwhile the keys are made (the first store open migrates the database).
  [sim] = await Promise.all([
    startSimProcessWithOptions({
      seed: SEED,
      timeScale: 0.2,
      keys: { [PIXAZO_KEY]: 100 },
      // The 429s come from the faults above, not from the volume of a hundred jobs.
      rateLimit: false,
      requestLogSize: 50_000,
      webhookLogSize: 50_000,
      faults: SIM_FAULTS,
    }),
    createKeys(),
  ]);

  // Callbacks go to a random live instance, whichever it is at that moment.
  balancer = await startTcpProxy(() => {
    const up = live();
    if (up.length === 0) return undefined;
    const { port } = new URL(pick(routing, up).url as string);
    return { host: '127.0.0.1', port: Number(port) };
  });
  events = await connectTestRedis();
  await Promise.all(instances.map(startInstance));
}, 90_000); // three gateway starts on a busy machine

afterAll(async () => {
  // Whatever failed the test, say which instances crashed and why.
  if (crashes.length > 0) console.log(`scale-out storm: crashes\n${crashes.join('\n')}`);
  stormOver = true;
  storm.resolve();
  await chaosDone.catch(() => {});
  await Promise.all(instances.map((i) => (i.run ? kill(i) : undefined)));
  await restartsDone();
  if (sim) await stopProcess(sim.run.child);
  await balancer?.close();
  events?.disconnect();
  if (redis) {
    await deleteKeys(redis, keyPrefix);
    await redis.quit();
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

type Outcome = { jobId: string } | { refused: string };

/**
 * generateImage on a random live instance; when the instance dies under the request, the
 * same request (same idempotency key) goes to another, as a client behind a balancer retries.
 */
async function submit(job: PlannedJob): Promise<Outcome> {
  const secret = secrets.get(job.principal.name) as string;
  for (let attempt = 1; ; attempt++) {
    const up = live();
    const target = up.length > 0 ? pick(routing, up) : undefined;
    try {
      if (target === undefined) throw new Error('no instance is up');
      const response = await fetch(`${target.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: JSON.stringify({
          query: 'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
          variables: { input: job.input },
        }),
      });
      const body = (await response.json()) as {
        data?: { generateImage: { id: string } | null };
        errors?: { extensions?: { code?: string } }[];
      };
      const code = body.errors?.[0]?.extensions?.code;
      if (code !== undefined) return { refused: code };
      return { jobId: body.data?.generateImage?.id as string };
    } catch (error) {
      // Killed under the request (or between the pick and the connect): try another.
      if (attempt >= 50) throw error;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** A count of events, and promises of its reaching a number. */
function counter() {
  let count = 0;
  const waiters = new Set<{ at: number; resolve: () => void }>();
  return {
    get count() {
      return count;
    },
    add() {
      count++;
      for (const waiter of [...waiters]) {
        if (count < waiter.at) continue;
        waiters.delete(waiter);
        waiter.resolve();
      }
    },
    /** Resolves once the count reaches `at`, or when `stop` resolves. */
    reached(at: number, stop: Promise<void>) {
      if (count >= at) return Promise.resolve();
      return Promise.race([stop, new Promise<void>((resolve) => waiters.add({ at, resolve }))]);
    },
  };
}

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const query = <T>(sql: string) => queryDatabase<T>(database.url, sql);

/**
 * A read sent once more when the connection it went on was closed under it ("other side
 * closed"): on a machine this busy, a server's idle keep-alive timer can fire before the
 * client's, late as both are, and close a pooled connection as a request goes out on it. HTTP
 * clients resend an idempotent request then; an instance that crashed is caught by `crashes`.
 */
async function readAgainIfCut<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw error;
    return read();
  }
}

const CLIENTS = 4;
/** Resolved when every job has ended (or the test failed): the chaos stops. */
const storm = deferred();
let stormOver = false;
let chaosDone: Promise<void> = Promise.resolve();
/** The restarts under way; those still starting when the storm is over are killed. */
let restartsDone: () => Promise<unknown> = () => Promise.resolve();

it('keeps every promise through a seeded fault storm with instances killed', async () => {
  const answered = counter();
  const ended = counter();
  const endedIds = new Set<string>();
  events.on('message', (_channel, payload: string) => {
    const { job } = JSON.parse(payload) as { job: { id: string; status: string } };
    if (TERMINAL.includes(job.status) && !endedIds.has(job.id)) {
      endedIds.add(job.id);
      ended.add();
    }
  });
  await events.subscribe(`${keyPrefix}events:jobs`);

  // The chaos: a random live instance killed every 14 to 24 answered admissions, then every 10
  // to 20 ended jobs, and started again in the background. A kill waits until two instances
  // are up, so one always serves while up to two start.
  /** Clients start no job past `point` + CLIENTS before that kill: requests are in flight. */
  let gate = { point: between(chaos, 14, 24), passed: deferred() };
  const restarts: Promise<void>[] = [];
  const killWhenTwoUp = async () => {
    while (live().length < 2 && !stormOver)
      await Promise.race([once(lifecycle, 'up'), storm.promise]);
    if (stormOver) return;
    const victim = pick(chaos, live());
    await kill(victim);
    const restart = performance.now();
    restarts.push(
      startInstance(victim).then(
        () => {
          restartMs.push(Math.round(performance.now() - restart));
        },
        (error: unknown) => {
          if (!stormOver) throw error; // else killed by afterAll while starting
        },
      ),
    );
  };
  chaosDone = (async () => {
    let nextEnd = 0;
    while (!stormOver) {
      if (gate.point <= JOB_COUNT) {
        await answered.reached(gate.point, storm.promise);
        await killWhenTwoUp();
        const passed = gate.passed;
        gate = { point: gate.point + between(chaos, 14, 24), passed: deferred() };
        passed.resolve();
      } else {
        nextEnd = Math.max(nextEnd, ended.count) + between(chaos, 10, 20);
        await ended.reached(nextEnd, storm.promise);
        await killWhenTwoUp();
      }
    }
  })();
  restartsDone = () => Promise.all(restarts);

  const outcomes = new Map<number, Outcome>();
  let next = 0;
  const client = async () => {
    for (;;) {
      while (next < JOB_COUNT && next >= gate.point + CLIENTS) await gate.passed.promise;
      const job = JOBS[next++];
      if (job === undefined) return;
      outcomes.set(job.index, await submit(job));
      answered.add();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  gate.passed.resolve();

  const jobIds = [...outcomes.values()].flatMap((o) => ('jobId' in o ? [o.jobId] : []));
  const refusals = [...outcomes.values()].flatMap((o) => ('refused' in o ? [o.refused] : []));
  // Budgets are the only limits here; they must bite, or the budget checks prove nothing.
  expect(new Set(refusals)).toEqual(new Set(['BUDGET_EXCEEDED']));

  // Every job ends (the clock brings it: polls, safety nets, adoption, deadlines).
  await vi.waitFor(
    async () => {
      const [row] = await query<{ count: string }>(
        "SELECT count(*) FROM jobs WHERE status IN ('QUEUED', 'PROCESSING')",
      );
      expect(Number(row?.count)).toBe(0);
    },
    { timeout: 120_000, interval: 500 },
  );
  stormOver = true;
  storm.resolve();
  await chaosDone;
  expect(crashes).toEqual([]);

  type JobRow = {
    id: string;
    owner_key_id: string;
    end_user_id: string | null;
    prompt: string;
    status: string;
    submission: string;
    request_id: string | null;
    cost_micro_usd: string;
    ledger_micro_usd: string;
    num_images: number;
    image_size: string;
    output_format: string;
    day: string;
  };
  const rows = await query<JobRow>(`
    SELECT j.*, to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
      (SELECT coalesce(sum(micro_usd), 0) FROM usage_ledger l WHERE l.job_id = j.id)
        AS ledger_micro_usd
    FROM jobs j`);
  const statuses: Record<string, number> = {};
  for (const row of rows) statuses[row.status] = (statuses[row.status] ?? 0) + 1;
  const posts = await sim.get<{ requests: { status: number | null; dropped: boolean }[] }>(
    'requests?method=POST&route=submit',
  );
  const { count: callbacks } = await sim.get<{ count: number }>('webhooks');
  const slowest = await query<{ seconds: number; status: string; error: string | null }>(`
    SELECT round(extract(epoch FROM completed_at - created_at)) AS seconds, status, error
    FROM jobs ORDER BY completed_at - created_at DESC LIMIT 5`);
  const errors = await query<{ error: string; count: string }>(`
    SELECT left(error, 70) AS error, count(*) FROM jobs WHERE status = 'ERROR' GROUP BY 1`);
  console.log(JSON.stringify({ slowest, errors, restartMs }));
  console.log(
    `scale-out storm: ${jobIds.length} admitted, ${refusals.length} refused, ${kills} kills; ` +
      `${JSON.stringify(statuses)}; Pixazo POSTs ${posts.requests.length} ` +
      `(${posts.requests.filter((r) => r.status === 429).length} answered 429, ` +
      `${posts.requests.filter((r) => r.dropped).length} dropped), ${callbacks} callbacks`,
  );

  // No job lost or made twice (a repeated request found its job), and every one ended.
  expect(new Set(jobIds).size).toBe(jobIds.length);
  expect(rows.map((r) => r.id).sort()).toEqual([...jobIds].sort());
  expect(rows.filter((r) => !TERMINAL.includes(r.status))).toEqual([]);

  // At most one POST per job. Every job Pixazo accepted has its own prompt: no two Pixazo jobs
  // share one. And the POSTs not refused with 429 (core re-sends only those) are no more than
  // the jobs claimed for sending: that counts the POSTs that made no Pixazo job too (cut short
  // by a kill, or dropped after a 429), which carry no prompt to tell them apart.
  const { jobs: simJobs } = await sim.get<{ jobs: JobSummary[] }>('jobs');
  const { count: logged } = await sim.get<{ count: number }>('requests');
  expect(logged).toBeLessThan(50_000); // the log kept every request
  const claimed = rows.filter((r) => r.submission !== 'pending').length;
  expect(posts.requests.filter((r) => r.status !== 429).length).toBeLessThanOrEqual(claimed);
  const byPrompt = new Map(simJobs.map((job) => [job.request.prompt, job]));
  expect(byPrompt.size).toBe(simJobs.length);
  const gatewayByPrompt = new Map(rows.map((r) => [r.prompt, r]));
  for (const simJob of simJobs) expect(gatewayByPrompt.has(simJob.request.prompt)).toBe(true);
  // A job that Pixazo ran ended as Pixazo said, or ERROR when the gateway gave up on it.
  for (const row of rows.filter((r) => r.request_id !== null)) {
    const simJob = simJobs.find((j) => j.request_id === row.request_id);
    expect(simJob?.request.prompt).toBe(row.prompt);
    if (row.status !== 'ERROR') expect([row.id, row.status]).toEqual([row.id, simJob?.outcome]);
  }

  // The ledger: each job's entries sum to its cost; Pixazo's bill for a job is never more than
  // its cost here (a refund only for what Pixazo did not charge); every budget held.
  for (const row of rows)
    expect([row.id, row.ledger_micro_usd]).toEqual([row.id, row.cost_micro_usd]);
  for (const simJob of simJobs) {
    const billed = simJob.outcome === 'ERROR' ? 0 : Math.round(simJob.cost_usd * 1_000_000);
    const row = gatewayByPrompt.get(simJob.request.prompt) as JobRow;
    expect(Number(row.cost_micro_usd), row.id).toBeGreaterThanOrEqual(billed);
  }
  const spent = new Map<string, number>();
  for (const row of rows) {
    const add = (key: string) => spent.set(key, (spent.get(key) ?? 0) + Number(row.cost_micro_usd));
    add(`${row.owner_key_id} ${row.day}`);
    if (row.end_user_id !== null) add(`${row.owner_key_id} ${row.end_user_id} ${row.day}`);
  }
  for (const principal of PRINCIPALS) {
    const keyId = keyIds.get(principal.name) as string;
    const days = [...new Set(rows.map((r) => r.day))];
    for (const day of days) {
      if (principal.dailyBudgetUsd !== null) {
        expect(spent.get(`${keyId} ${day}`) ?? 0).toBeLessThanOrEqual(
          principal.dailyBudgetUsd * 1_000_000,
        );
      }
      if ('endUserDailyBudgetUsd' in principal) {
        for (const endUser of principal.endUsers) {
          expect(spent.get(`${keyId} ${endUser} ${day}`) ?? 0).toBeLessThanOrEqual(
            principal.endUserDailyBudgetUsd * 1_000_000,
          );
        }
      }
    }
  }

  // Every COMPLETED job's images, from a live instance, decode at the size asked for.
  const completed = rows.filter((r) => r.status === 'COMPLETED');
  expect(completed.length).toBeGreaterThan(0);
  await Promise.all(
    completed.map(async (row, i) => {
      const up = live(); // what the chaos restarted last may still be starting
      const instance = up[i % up.length] as Instance;
      const data = await readAgainIfCut(() =>
        graphqlAt(
          instance.url as string,
          ADMIN_API_KEY,
          'query ($id: ID!) { job(id: $id) { images { url width height } } }',
          { id: row.id },
        ),
      );
      const { images } = data.job as { images: { url: string }[] };
      expect(images).toHaveLength(row.num_images);
      const size = PIXEL_SIZES[row.image_size as keyof typeof PIXEL_SIZES];
      for (const image of images) {
        const served = await readAgainIfCut(() => fetch(image.url));
        expect(served.status).toBe(200);
        const metadata = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
        expect([metadata.format, metadata.width, metadata.height]).toEqual([
          row.output_format,
          size.width,
          size.height,
        ]);
      }
    }),
  );
  expect(crashes).toEqual([]);
}, 180_000);

/**
 * SIGKILL of the gateway process that owns a batch of jobs, among three `pnpm start` processes
 * on one PostgreSQL database and one Redis prefix, with the simulator in a process of its own
 * as Pixazo. The owner is made so by construction: A runs alone while it claims the batch
 * (PIXAZO_MAX_CONCURRENCY 4: one POST the simulator holds unanswered, three jobs running at
 * Pixazo, two more waiting in the queue), then B and C start and A is killed. The survivors
 * adopt A's jobs once its heartbeat is stale, end the mid-POST one ERROR with its charge (never
 * re-sent) once the POST's timeout has surely passed, finish the others and dispatch the queue.
 */
import { isTerminalStatus, type JobStatus } from '@zimage/contract';
import { expect, it, vi } from 'vitest';
import { STOPPED_WHILE_SUBMITTING } from '../src/jobs/submitter.ts';
import { followJob, graphqlAt, isTerminalJob } from './helpers/gateway-client.ts';
import { queryDatabase } from './helpers/postgres.ts';
import { useProcessCluster } from './helpers/process-cluster.ts';
import { gatewayStarted, stopProcess } from './helpers/processes.ts';
import { type SimJob, type SimRequest, startSimProcess } from './helpers/sim-process.ts';

const ADMIN_KEY = 'zk_admin-secret-of-the-kill-test-0001';
const SIM_KEY = 'kill-key';
const cluster = useProcessCluster({
  name: 'scaleout-kill',
  adminApiKey: ADMIN_KEY,
  pixazoKey: SIM_KEY,
  startSim: () => startSimProcess(`${SIM_KEY}=5`),
});
const { database } = cluster;
/**
 * Each generate POST's timeout: A's held POST must still be in flight when A is killed, after
 * B and C have started on a busy machine. The survivors wait it out (after the TTL) before
 * ending that job.
 */
const SUBMIT_TIMEOUT_SECONDS = 15;

const startGatewayProcess = () =>
  cluster.startGateway({
    PIXAZO_MAX_CONCURRENCY: '4',
    INSTANCE_HEARTBEAT_SECONDS: '1',
    // Four missed beats: a busy machine's pauses do not make a live instance dead.
    INSTANCE_TTL_SECONDS: '4',
    PIXAZO_SUBMIT_TIMEOUT_SECONDS: String(SUBMIT_TIMEOUT_SECONDS),
  });

const query = <T>(sql: string) => queryDatabase<T>(database.url, sql);

interface StoredJob {
  id: string;
  status: string;
  submission: string;
  owner_instance: string | null;
}

const storedJobs = () =>
  query<StoredJob>('SELECT id, status, submission, owner_instance FROM jobs ORDER BY created_at');

const FIELDS = 'id status prompt requestId queuePosition error costUsd';

it('finishes every job of a SIGKILLed instance on the survivors, one POST each at most', async () => {
  const a = startGatewayProcess();
  const aUrl = await gatewayStarted(a);
  const [aInstance] = await query<{ id: string }>('SELECT id FROM instances');
  expect(aInstance).toBeDefined();

  // The first POST is answered after two minutes: long after A has died.
  await cluster.sim.put('faults', { slow: { next: 1, delayMs: 120_000 } });
  // Turbo at 40 steps runs ~11 s at Pixazo, so A's are still running when it dies; the two
  // that wait in the queue run ~2 s once the survivors send them.
  const prompts = [
    ...[1, 2, 3, 4].map((i) => ({ prompt: `claimed by A ${i}`, numInferenceSteps: 40 })),
    ...[5, 6].map((i) => ({ prompt: `queued behind A's ${i}`, numInferenceSteps: 4 })),
  ];
  const ids: string[] = [];
  for (const input of prompts) {
    const { generateImage } = await graphqlAt(
      aUrl,
      ADMIN_KEY,
      'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
      { input: { ...input, imageSize: 'SQUARE_1_1' } },
    );
    ids.push(generateImage?.id as string);
  }
  // A has sent four POSTs (its cap) and one of them is held unanswered.
  await vi.waitFor(
    async () => {
      const { requests } = await cluster.sim.get<{ requests: SimRequest[] }>(
        'requests?route=submit',
      );
      expect(requests.map((r) => r.status ?? 'held').sort()).toEqual([202, 202, 202, 'held']);
    },
    { timeout: 20_000 },
  );
  const heldJob = (await storedJobs()).find((job) => job.submission === 'submitting');
  expect(heldJob).toBeDefined();
  const held = heldJob?.id as string;

  const [b, c] = [startGatewayProcess(), startGatewayProcess()];
  const [bUrl, cUrl] = await Promise.all([gatewayStarted(b), gatewayStarted(c)]);
  // Followed on the survivors (B for some, C for others) from before the kill.
  const followed = ids.map((id, i) =>
    followJob(i % 2 === 0 ? bUrl : cUrl, ADMIN_KEY, id, FIELDS, isTerminalJob),
  );
  await Promise.all(followed.map((f) => f.live));

  // What A owns when it dies: the held POST and three submitted jobs; the queue is no one's.
  const owned = (job: StoredJob) => [
    job.submission,
    job.owner_instance,
    isTerminalStatus(job.status as JobStatus),
  ];
  expect((await storedJobs()).map(owned)).toEqual([
    ...ids
      .slice(0, 4)
      .map((id) => [id === held ? 'submitting' : 'submitted', aInstance?.id, false]),
    ['pending', null, false],
    ['pending', null, false],
  ]);
  expect(await stopProcess(a.child, 'SIGKILL')).toBeNull();

  const ended = await Promise.all(followed.map((f) => f.done));
  const byId = new Map(ended.map((job) => [job.id as string, job]));
  expect(byId.get(held)).toMatchObject({
    status: 'ERROR',
    error: STOPPED_WHILE_SUBMITTING,
    requestId: null,
    costUsd: 0.008,
  });
  for (const id of ids.filter((id) => id !== held)) {
    expect(byId.get(id)).toMatchObject({ status: 'COMPLETED', error: null });
  }
  // The survivors adopted A's jobs and claimed the queue; nothing is A's any more.
  const after = await storedJobs();
  // (A's row stays: no one removes a dead instance's row, its staleness is what counts.)
  const survivors = (await query<{ id: string }>('SELECT id FROM instances'))
    .map((row) => row.id)
    .filter((id) => id !== aInstance?.id);
  expect(survivors).toHaveLength(2);
  for (const job of after) expect(survivors).toContain(job.owner_instance);

  // One POST per job, the held one included (Pixazo took it; the gateway never learnt its id).
  const { requests } = await cluster.sim.get<{ requests: SimRequest[] }>('requests?route=submit');
  expect(requests).toHaveLength(6);
  const { jobs } = await cluster.sim.get<{ jobs: SimJob[] }>('jobs');
  expect(jobs.map((job) => job.request.prompt).sort()).toEqual(prompts.map((p) => p.prompt).sort());

  // Every charge kept, the held job's too: the ledger is the jobs' costs.
  const { viewer } = await graphqlAt(bUrl, ADMIN_KEY, '{ viewer { usage { spentTodayUsd } } }');
  const microUsd = (usd: unknown) => Math.round((usd as number) * 1e6);
  const costs = ended.reduce((sum, job) => sum + microUsd(job.costUsd), 0);
  expect(costs).toBe(6 * 8000);
  expect(viewer).toEqual({ usage: { spentTodayUsd: costs / 1e6 } });
}, 120_000);

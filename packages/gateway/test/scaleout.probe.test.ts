/**
 * A 402 (wallet empty) from Pixazo among three `pnpm start` processes on one PostgreSQL
 * database and one Redis prefix, the simulator in its own process: after the cooldown ONE
 * pending job probes for all three, not one per instance. The probe's answer is held by the
 * simulator until the other two have said (at debug level) that another instance's probe is
 * out, so a second probe would have been sent by then; once Pixazo accepts the probe, the
 * queue drains, one POST per job.
 */
import { expect, it, vi } from 'vitest';
import { followJob, graphqlAt, isTerminalJob } from './helpers/gateway-client.ts';
import { useProcessCluster } from './helpers/process-cluster.ts';
import { gatewayStarted } from './helpers/processes.ts';
import { type SimJob, type SimRequest, startSimProcess } from './helpers/sim-process.ts';

const ADMIN_KEY = 'zk_admin-secret-of-the-probe-test-0001';
const SIM_KEY = 'probe-key';
const cluster = useProcessCluster({
  name: 'scaleout-probe',
  adminApiKey: ADMIN_KEY,
  pixazoKey: SIM_KEY,
  startSim: () => startSimProcess(`${SIM_KEY}=5`),
});

const startGatewayProcess = () =>
  cluster.startGateway({
    // One job at Pixazo at a time: the others wait in the queue when the 402 comes.
    PIXAZO_MAX_CONCURRENCY: '1',
    // Room for the test to refill the wallet and hold the probe before it goes.
    PIXAZO_COOLDOWN_WALLET_EMPTY_SECONDS: '5',
    // The probe's lines: who probes (info), who sees another instance probing (debug).
    LOG_LEVEL: 'debug',
  });

const PROBING = /"msg":"(probing pixazo with a pending job)"/;
const PROBE_ELSEWHERE = /"msg":"(another instance is probing pixazo)[^"]*"/;

const generate = async (url: string, prompt: string, numInferenceSteps: number) =>
  (
    await graphqlAt(
      url,
      ADMIN_KEY,
      'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
      { input: { prompt, numInferenceSteps, imageSize: 'SQUARE_1_1' } },
    )
  ).generateImage?.id as string;

const FIELDS = 'id status requestId error costUsd';

it('sends one probe in total across three instances after a 402, then drains the queue', async () => {
  const runs = [startGatewayProcess(), startGatewayProcess(), startGatewayProcess()];
  const urls = await Promise.all(runs.map(gatewayStarted));
  const [aUrl] = urls as [string];

  // A long job holds the only place while five more queue up, spread over the three.
  const holder = await generate(aUrl, 'holds the place', 40);
  const followedHolder = followJob(
    aUrl,
    ADMIN_KEY,
    holder,
    FIELDS,
    (job) => job.requestId !== null,
  );
  await followedHolder.done;
  const holderEnded = followJob(aUrl, ADMIN_KEY, holder, FIELDS, isTerminalJob);
  await holderEnded.live;
  // The wallet is empty once the holder was accepted: when its place frees up, the next job's
  // POST meets a 402.
  await cluster.sim.put('balance', { balance_usd: 0 }, SIM_KEY);
  const queued: string[] = [];
  for (let i = 0; i < 5; i++) {
    queued.push(await generate(urls[i % 3] as string, `queued ${i}`, 1));
  }
  const followed = queued.map((id, i) =>
    followJob(urls[i % 3] as string, ADMIN_KEY, id, FIELDS, isTerminalJob),
  );
  await Promise.all(followed.map((f) => f.live));

  // Pixazo has no cancel: the holder runs to its end, which frees the place.
  expect(await holderEnded.done).toMatchObject({ status: 'COMPLETED' });
  const [refused] = followed;
  expect(await refused?.done).toMatchObject({ status: 'ERROR', costUsd: 0 });

  // Within the cooldown: the wallet is refilled and the next POST (the probe) is held.
  await cluster.sim.put('balance', { balance_usd: 5 }, SIM_KEY);
  await cluster.sim.put('faults', { slow: { next: 1, delayMs: 10_000 } });
  const probing = new Map(runs.map((run) => [run, run.printed(PROBING).then(() => run)]));
  // The others never print it: their wait ends (rejected) when they exit.
  for (const wait of probing.values()) wait.catch(() => {});
  const prober = await Promise.race(probing.values());
  const others = runs.filter((run) => run !== prober);
  await Promise.race([
    Promise.all(others.map((run) => run.printed(PROBE_ELSEWHERE))),
    Promise.race(others.map((run) => probing.get(run))).then(() => {
      throw new Error('a second instance sent a probe of its own');
    }),
  ]);
  // Both others know the probe is out, and none sent one of its own: the holder's POST, the
  // refused one and the held probe (logged before its POST leaves, so it may still arrive).
  const submits = async () =>
    (await cluster.sim.get<{ requests: SimRequest[] }>('requests?route=submit')).requests.map(
      (r) => r.status ?? 'held',
    );
  await vi.waitFor(async () => expect((await submits()).length).toBeGreaterThanOrEqual(3), {
    timeout: 10_000,
  });
  expect(await submits()).toEqual([202, 402, 'held']);

  const ended = await Promise.all(followed.slice(1).map((f) => f.done));
  expect(ended.map((job) => job.status)).toEqual([
    'COMPLETED',
    'COMPLETED',
    'COMPLETED',
    'COMPLETED',
  ]);
  const { jobs } = await cluster.sim.get<{ jobs: SimJob[] }>('jobs');
  expect(jobs.map((job) => job.request.prompt).sort()).toEqual([
    'holds the place',
    'queued 1',
    'queued 2',
    'queued 3',
    'queued 4',
  ]);
  expect(await cluster.sim.get<{ count: number }>('requests?route=submit')).toMatchObject({
    count: 6,
  });
}, 120_000);

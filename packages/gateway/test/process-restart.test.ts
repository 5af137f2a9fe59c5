/**
 * The gateway process killed (SIGKILL, no shutdown) while Pixazo runs its job, with the
 * simulator in its own process as Pixazo is in production, then started again on the same
 * data: the job completes, its image is served, and Pixazo received exactly one POST.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { followJob, graphqlAt, isTerminalJob } from './helpers/gateway-client.ts';
import { gatewayStarted, startProcess, stopProcess } from './helpers/processes.ts';
import { type SimProcess, startSimProcess } from './helpers/sim-process.ts';

const ADMIN_KEY = 'zk_process-restart-test-admin-key-0001';
let dataDir: string;
let sim: SimProcess;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-restart-'));
  // Time scale 1: a Turbo job takes ~3 s at Pixazo, long enough to kill the gateway meanwhile.
  sim = await startSimProcess('restart-key=5');
});
afterAll(async () => {
  await stopProcess(sim.run.child);
  await rm(dataDir, { recursive: true, force: true });
});

function startGatewayProcess() {
  return startProcess('src/main.ts', {
    PORT: '0',
    DATA_DIR: dataDir,
    PIXAZO_API_KEY: 'restart-key',
    PIXAZO_BASE_URL: sim.url,
    ADMIN_API_KEY: ADMIN_KEY,
  });
}

const FIELDS = 'status requestId images { url width height }';

async function pixazoPosts(): Promise<number> {
  return (await sim.get<{ count: number }>('requests?route=submit')).count;
}

it('finishes a job after the gateway process is killed while Pixazo runs it', async () => {
  const first = startGatewayProcess();
  const firstUrl = await gatewayStarted(first);
  const { generateImage } = await graphqlAt(
    firstUrl,
    ADMIN_KEY,
    'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
    { input: { prompt: 'a lighthouse that survives a crash', imageSize: 'LANDSCAPE_4_3' } },
  );
  const id = generateImage?.id as string;
  const submitted = await followJob(
    firstUrl,
    ADMIN_KEY,
    id,
    FIELDS,
    (job) => job.requestId !== null,
  ).done;
  expect(submitted.status).not.toBe('COMPLETED');

  expect(await stopProcess(first.child, 'SIGKILL')).toBeNull();

  const second = startGatewayProcess();
  try {
    const secondUrl = await gatewayStarted(second);
    const job = await followJob(secondUrl, ADMIN_KEY, id, FIELDS, isTerminalJob).done;
    expect(job).toMatchObject({ status: 'COMPLETED', requestId: submitted.requestId });
    const [image] = job.images as { url: string; width: number; height: number }[];
    expect(image).toMatchObject({ width: 1024, height: 768 });
    const served = await fetch((image as { url: string }).url);
    expect([served.status, served.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(await pixazoPosts()).toBe(1);
  } finally {
    await stopProcess(second.child);
  }
}, 60_000);

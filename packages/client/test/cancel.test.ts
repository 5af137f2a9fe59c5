/**
 * cancel against the real gateway, on a gateway of its own: the test fills Pixazo's slots with
 * held jobs, which no other test's jobs may occupy.
 */
import { startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createZimageClient, type Job, type ZimageClient } from '../src/index.ts';

let gateway: TestGateway;
let zimage: ZimageClient;

beforeAll(async () => {
  gateway = await startTestGateway();
  zimage = createZimageClient({
    url: gateway.url,
    apiKey: await gateway.key(),
    webSocketImpl: WebSocket,
  });
});
afterAll(async () => {
  gateway.releaseJobs();
  await zimage.close();
  await gateway.close();
});

async function collect(states: AsyncIterable<Job>): Promise<Job[]> {
  const seen: Job[] = [];
  for await (const state of states) seen.push(state);
  return seen;
}

describe('cancel', () => {
  /** The gateway's default PIXAZO_MAX_CONCURRENCY: this many jobs at Pixazo at once. */
  const PIXAZO_CAP = 8;

  it('cancels a job waiting in the gateway’s queue; its watch ends with CANCELLED', async () => {
    // Fill Pixazo's slots with jobs that stay there, so the next job waits in our queue.
    gateway.holdJobs();
    const input = { prompt: 'filler', imageSize: 'SQUARE_1_1' } as const;
    const fillers = await Promise.all(
      Array.from({ length: PIXAZO_CAP }, () => zimage.generate(input)),
    );
    await Promise.all(
      fillers.map(async ({ id }) => {
        for await (const job of zimage.watch(id)) if (job.requestId) break;
      }),
    );
    const job = await zimage.generate({ prompt: 'cancel me', imageSize: 'SQUARE_1_1' });
    expect(job.queuePosition).toBe(1);
    const watched = collect(zimage.watch(job.id));
    const cancelled = await zimage.cancel(job.id);
    expect(cancelled).toMatchObject({ id: job.id, status: 'CANCELLED', costUsd: 0 });
    expect((await watched).at(-1)).toEqual(cancelled);
    // Cancelling again changes nothing.
    expect(await zimage.cancel(job.id)).toEqual(cancelled);

    // A job already at Pixazo is paid: not cancelled, it goes on to deliver its images.
    const sent = fillers[0]?.id as string;
    await expect(zimage.cancel(sent)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    gateway.releaseJobs();
    const done = (await collect(zimage.watch(sent))).at(-1);
    expect(done).toMatchObject({ status: 'COMPLETED' });
    expect(done?.images).toHaveLength(1);
  });
});

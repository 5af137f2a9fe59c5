/**
 * cancel against the real gateway, on a gateway of its own: the test fills Pixazo's slots with
 * held jobs, which no other test's jobs may occupy.
 */
import { describe, expect, it } from 'vitest';
import { collect, useClientOnGateway } from './helpers/client-on-gateway.ts';

const setup = useClientOnGateway();

describe('cancel', () => {
  /** The gateway's default PIXAZO_MAX_CONCURRENCY: this many jobs at Pixazo at once. */
  const PIXAZO_CAP = 8;

  it('cancels a job waiting in the gateway’s queue; its watch ends with CANCELLED', async () => {
    // Fill Pixazo's slots with jobs that stay there, so the next job waits in our queue.
    setup.gateway.holdJobs();
    const input = { prompt: 'filler', imageSize: 'SQUARE_1_1' } as const;
    const fillers = await Promise.all(
      Array.from({ length: PIXAZO_CAP }, () => setup.zimage.generate(input)),
    );
    await Promise.all(
      fillers.map(async ({ id }) => {
        for await (const job of setup.zimage.watch(id)) if (job.requestId) break;
      }),
    );
    const job = await setup.zimage.generate({ prompt: 'cancel me', imageSize: 'SQUARE_1_1' });
    expect(job.queuePosition).toBe(1);
    const watched = collect(setup.zimage.watch(job.id));
    const cancelled = await setup.zimage.cancel(job.id);
    expect(cancelled).toMatchObject({ id: job.id, status: 'CANCELLED', costUsd: 0 });
    expect((await watched).at(-1)).toEqual(cancelled);
    // Cancelling again changes nothing.
    expect(await setup.zimage.cancel(job.id)).toEqual(cancelled);

    // A job already at Pixazo is paid: not cancelled, it goes on to deliver its images.
    const sent = fillers[0]?.id as string;
    await expect(setup.zimage.cancel(sent)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    setup.gateway.releaseJobs();
    const done = (await collect(setup.zimage.watch(sent))).at(-1);
    expect(done).toMatchObject({ status: 'COMPLETED' });
    expect(done?.images).toHaveLength(1);
  });
});

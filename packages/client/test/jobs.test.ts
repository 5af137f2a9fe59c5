/** The client against the real gateway: generate, watch, waitFor, job, jobs, cancel, end users. */
import { isTerminalStatus } from '@zimage/contract';
import { describe, expect, it } from 'vitest';
import { createZimageClient, type Job, ZimageError } from '../src/index.ts';
import { collect, useClientOnGateway } from './helpers/client-on-gateway.ts';

const setup = useClientOnGateway();

describe('generate and watch', () => {
  it('streams the current state first, then every change, and ends after the terminal one', async () => {
    const job = await setup.zimage.generate({
      prompt: 'a lighthouse',
      imageSize: 'LANDSCAPE_16_9',
    });
    expect(job).toMatchObject({ status: 'QUEUED', prompt: 'a lighthouse', model: 'Z_IMAGE_TURBO' });

    const states = await collect(setup.zimage.watch(job.id));
    expect(states[0]?.id).toBe(job.id);
    expect(Date.parse(states[0]?.updatedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(job.updatedAt),
    );
    expect(states.at(-1)).toMatchObject({ status: 'COMPLETED', error: null });
    expect(states.slice(0, -1).every((state) => !isTerminalStatus(state.status))).toBe(true);

    const [image] = states.at(-1)?.images ?? [];
    expect(image).toMatchObject({ width: 1024, height: 576, contentType: 'image/png' });
    // The gateway gives absolute URLs: fetched as they are, no key needed.
    const response = await fetch(image?.url ?? '');
    expect(response.headers.get('content-type')).toBe('image/png');
    expect((await response.arrayBuffer()).byteLength).toBe(image?.byteLength);
  });

  it('gives a job that has ended as its one terminal state', async () => {
    const job = await setup.zimage.generate({ prompt: 'already done', imageSize: 'SQUARE_1_1' });
    const done = await setup.zimage.waitFor(job.id);
    expect(await collect(setup.zimage.watch(job.id))).toEqual([done]);
  });
});

describe('waitFor', () => {
  it('resolves with the terminal job', async () => {
    const job = await setup.zimage.generate({ prompt: 'wait for me', imageSize: 'SQUARE_1_1' });
    const done = await setup.zimage.waitFor(job.id, { timeoutMs: 20_000 });
    expect(done).toMatchObject({ id: job.id, status: 'COMPLETED' });
    expect(done.images).toHaveLength(1);
    expect(done).toEqual(await setup.zimage.job(job.id));
  });

  it('gives up with TIMEOUT after timeoutMs, and the job goes on', async () => {
    setup.gateway.holdJobs();
    const job = await setup.zimage.generate({ prompt: 'never in time', imageSize: 'SQUARE_1_1' });
    const waiting = setup.zimage.waitFor(job.id, { timeoutMs: 300 });
    await expect(waiting).rejects.toThrowError(ZimageError);
    await expect(waiting).rejects.toMatchObject({ code: 'TIMEOUT' });
    console.log('refused');
    setup.gateway.releaseJobs();
    expect((await setup.zimage.waitFor(job.id)).status).toBe('COMPLETED');
  });

  it('stops with the signal’s reason when aborted', async () => {
    setup.gateway.holdJobs();
    const job = await setup.zimage.generate({ prompt: 'abandoned', imageSize: 'SQUARE_1_1' });
    const controller = new AbortController();
    const waiting = setup.zimage.waitFor(job.id, { signal: controller.signal });
    const reason = new Error('the user went away');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});

describe('models and viewer', () => {
  it('lists the models with their ranges and the prompt limit', async () => {
    const models = await setup.zimage.models();
    expect(models.map((m) => m.id)).toEqual(['Z_IMAGE_TURBO', 'Z_IMAGE_BASE']);
    for (const model of models) {
      expect(model.maxPromptLength).toBe(2000);
      expect(model.minSteps).toBeLessThanOrEqual(model.defaultSteps);
      expect(model.expectedDurationMs).toBeGreaterThan(0);
    }
  });

  it('shows the key and its usage', async () => {
    const fresh = createZimageClient({
      url: setup.gateway.url,
      apiKey: await setup.gateway.key({ name: 'client-test' }),
    });
    const before = await fresh.viewer();
    expect(before).toMatchObject({ name: 'client-test', endUserId: null });
    expect(before.scopes).toEqual(['generate', 'read', 'act-as']);
    expect(before.usage).toMatchObject({ spentTodayUsd: 0, jobsInFlight: 0 });
    const job = await fresh.generate({ prompt: 'spend', imageSize: 'SQUARE_1_1', numImages: 2 });
    expect((await fresh.viewer()).usage.spentTodayUsd).toBe(job.costUsd);
  });
});

describe('end users', () => {
  it('acts for one end user per derived client, over the one connection', async () => {
    const alice = setup.zimage.forEndUser('web:alice');
    const bob = setup.zimage.forEndUser('web:bob');
    const job = await alice.generate({ prompt: 'alice only', imageSize: 'SQUARE_1_1' });
    expect(job.endUserId).toBe('web:alice');

    expect((await alice.waitFor(job.id)).status).toBe('COMPLETED');
    expect(await bob.job(job.id)).toBeNull();
    expect(await alice.job(job.id)).toMatchObject({ id: job.id });
    expect((await bob.jobs()).nodes).toEqual([]);
    expect((await alice.jobs()).nodes.map((j) => j.id)).toEqual([job.id]);
    await expect(collect(bob.watch(job.id))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(bob.cancel(job.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    expect(await alice.viewer()).toMatchObject({
      endUserId: 'web:alice',
      usage: { spentTodayUsd: job.costUsd },
    });
    expect((await bob.viewer()).usage.spentTodayUsd).toBe(0);
  });

  it('takes the end user at creation too', async () => {
    const carol = createZimageClient({
      url: `${setup.gateway.url}/graphql`,
      apiKey: await setup.gateway.key(),
      endUserId: 'web:carol',
    });
    expect(carol.endUserId).toBe('web:carol');
    const job = await carol.generate({ prompt: 'carol', imageSize: 'SQUARE_1_1' });
    expect(job.endUserId).toBe('web:carol');
  });
});

describe('jobs', () => {
  it('pages newest first, and filters', async () => {
    const dave = setup.zimage.forEndUser('web:dave');
    const made: Job[] = [];
    for (const prompt of ['first red', 'second blue', 'third red']) {
      made.push(await dave.generate({ prompt, imageSize: 'SQUARE_1_1' }));
    }
    const newestFirst = made.map((job) => job.id).reverse();

    const page1 = await dave.jobs({ first: 2 });
    expect(page1.nodes.map((job) => job.id)).toEqual(newestFirst.slice(0, 2));
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = await dave.jobs({ first: 2, after: page1.pageInfo.endCursor });
    expect(page2.nodes.map((job) => job.id)).toEqual(newestFirst.slice(2));
    expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const red = await dave.jobs({ search: 'red' });
    expect(red.nodes.map((job) => job.prompt)).toEqual(['third red', 'first red']);
    await Promise.all(made.map((job) => dave.waitFor(job.id)));
    expect((await dave.jobs({ status: 'COMPLETED', model: 'Z_IMAGE_TURBO' })).nodes).toHaveLength(
      3,
    );
    expect((await dave.jobs({ model: 'Z_IMAGE_BASE' })).nodes).toEqual([]);
  });
});

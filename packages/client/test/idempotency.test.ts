/** generate pays once per call, whatever the network does to its answer. */

import { HttpProxy, startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZimageClient } from '../src/index.ts';

let gateway: TestGateway;
let proxy: HttpProxy;

beforeAll(async () => {
  gateway = await startTestGateway();
  proxy = await HttpProxy.start(gateway.url);
});
afterAll(async () => {
  await proxy.close();
  await gateway.close();
});

const submits = () => gateway.sim.countRequests({ route: 'submit', method: 'POST' });

describe('generate', () => {
  it('retries a request whose answer was lost with the same key: one job, one charge', async () => {
    const zimage = createZimageClient({ url: proxy.url, apiKey: await gateway.key() });
    const submitsBefore = submits();
    proxy.loseNextAnswer();
    const job = await zimage.generate({ prompt: 'paid once', imageSize: 'SQUARE_1_1' });

    // Two POSTs reached the gateway: the one whose answer was lost, and its retry.
    expect(proxy.connections.filter((line) => line.startsWith('POST /graphql'))).toHaveLength(2);
    const { nodes } = await zimage.jobs();
    expect(nodes.map((j) => j.id)).toEqual([job.id]);
    await zimage.waitFor(job.id);
    expect(submits() - submitsBefore).toBe(1);
    expect((await zimage.viewer()).usage.spentTodayUsd).toBe(job.costUsd);
  });

  it('makes a new job per call, and the same job for a key passed again', async () => {
    const zimage = createZimageClient({ url: gateway.url, apiKey: await gateway.key() });
    const input = { prompt: 'twice', imageSize: 'SQUARE_1_1' } as const;
    const first = await zimage.generate(input);
    const second = await zimage.generate(input);
    expect(second.id).not.toBe(first.id);

    const keyed = await zimage.generate({ ...input, idempotencyKey: 'order-42' });
    const again = await zimage.generate({ ...input, idempotencyKey: 'order-42' });
    expect(again.id).toBe(keyed.id);
    expect((await zimage.jobs()).nodes).toHaveLength(3);
  });
});

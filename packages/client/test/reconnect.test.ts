/**
 * watch across a cut connection: the client reconnects and subscribes again on its own, the
 * job read again after the reconnect brings what changed meanwhile, and nothing is yielded
 * twice or out of order.
 */

import { HttpProxy, startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createZimageClient, type Job, type ZimageClient } from '../src/index.ts';
import { isNewerState } from '../src/job-stream.ts';

let gateway: TestGateway;
let proxy: HttpProxy;
let zimage: ZimageClient;
/** The same key, not through the proxy: sees the job end while the proxy holds `zimage` off. */
let direct: ZimageClient;

beforeAll(async () => {
  gateway = await startTestGateway();
  proxy = await HttpProxy.start(gateway.url);
  const apiKey = await gateway.key();
  zimage = createZimageClient({ url: proxy.url, apiKey, webSocketImpl: WebSocket });
  direct = createZimageClient({ url: gateway.url, apiKey, webSocketImpl: WebSocket });
});
afterEach(() => {
  proxy.release();
  gateway.releaseJobs();
});
afterAll(async () => {
  await zimage.close();
  await direct.close();
  await proxy.close();
  await gateway.close();
});

/**
 * A held job, watched through the proxy: resolves once its first state has arrived, with
 * every state collected as the watch runs on, and how many sockets the proxy had seen then.
 */
async function watchHeldJob(prompt: string) {
  gateway.holdJobs();
  const job = await zimage.generate({ prompt, imageSize: 'SQUARE_1_1' });
  const states: Job[] = [];
  const first = Promise.withResolvers<void>();
  const ended = (async () => {
    for await (const state of zimage.watch(job.id)) {
      states.push(state);
      first.resolve();
    }
  })();
  await first.promise;
  return { job, states, ended, sockets: proxy.webSockets };
}

/** The order states must come in: status forward, and updatedAt never back. */
function expectInOrder(states: Job[]) {
  for (const [previous, next] of states.slice(0, -1).map((s, i) => [s, states[i + 1]] as const)) {
    expect(isNewerState(next as Job, previous)).toBe(true);
    expect(Date.parse(next?.updatedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(previous.updatedAt),
    );
  }
}

/** How many `next` messages the gateway sent on WebSocket connection number `index`. */
function nextMessages(index: number): number {
  const sockets = proxy.connections.flatMap((line, i) =>
    line.startsWith('GET /graphql') ? [i] : [],
  );
  const received = proxy.received[sockets[index] ?? -1] ?? '';
  return received.split('"type":"next"').length - 1;
}

describe('watch across a cut connection', () => {
  it('brings the change made while the socket was down', async () => {
    const { job, states, ended, sockets } = await watchHeldJob('across the cut');
    proxy.hold();
    proxy.cutConnections();
    // The job ends while the client cannot reach the gateway, and it is trying to.
    gateway.releaseJobs();
    expect((await direct.waitFor(job.id)).status).toBe('COMPLETED');
    await proxy.until(() => proxy.webSockets > sockets);
    expect(states).toHaveLength(1);
    proxy.release();
    await ended;

    expect(states[0]?.status).toBe('QUEUED');
    expect(states.at(-1)).toMatchObject({ id: job.id, status: 'COMPLETED' });
    expect(states.at(-1)?.images).toHaveLength(1);
    expectInOrder(states);
  });

  it('does not yield the state it already had when the re-read repeats it', async () => {
    const { states, ended, sockets } = await watchHeldJob('same again');
    proxy.cutConnections();
    // The new socket's subscription has sent the job's current state: the same as before.
    await proxy.until(() => proxy.webSockets > sockets && nextMessages(sockets) >= 1);
    gateway.releaseJobs();
    await ended;

    expect(states.filter((state) => state.status === 'QUEUED')).toHaveLength(1);
    expect(states.at(-1)?.status).toBe('COMPLETED');
    expectInOrder(states);
  });
});

describe('isNewerState', () => {
  const at = (iso: string, overrides: Partial<Job> = {}) =>
    ({ status: 'QUEUED', updatedAt: iso, queuePosition: 1, ...overrides }) as Job;
  const t0 = '2026-01-01T12:00:00.000Z';
  const t1 = '2026-01-01T12:00:01.000Z';

  it('takes a later status, a later update, or a moved queue position', () => {
    expect(isNewerState(at(t0), undefined)).toBe(true);
    expect(isNewerState(at(t0, { status: 'PROCESSING' }), at(t0))).toBe(true);
    expect(isNewerState(at(t1), at(t0))).toBe(true);
    expect(isNewerState(at(t0, { queuePosition: 0 }), at(t0))).toBe(true);
  });

  it('drops a repeat, an older update and a status that goes back', () => {
    expect(isNewerState(at(t0), at(t0))).toBe(false);
    expect(isNewerState(at(t0), at(t1))).toBe(false);
    expect(isNewerState(at(t1), at(t0, { status: 'PROCESSING' }))).toBe(false);
    expect(isNewerState(at(t1, { status: 'PROCESSING' }), at(t0, { status: 'COMPLETED' }))).toBe(
      false,
    );
  });
});

/**
 * A test file's client on a real gateway of its own (the simulator as Pixazo): up before its
 * tests, closed after; held jobs are released after every test.
 */
import { startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { createZimageClient, type Job, type ZimageClient } from '../../src/index.ts';

export interface ClientOnGateway {
  readonly gateway: TestGateway;
  readonly zimage: ZimageClient;
}

export function useClientOnGateway(): ClientOnGateway {
  let gateway: TestGateway | undefined;
  let zimage: ZimageClient | undefined;
  beforeAll(async () => {
    gateway = await startTestGateway();
    zimage = createZimageClient({
      url: gateway.url,
      apiKey: await gateway.key(),
      webSocketImpl: WebSocket,
    });
  });
  afterEach(() => gateway?.releaseJobs());
  afterAll(async () => {
    await zimage?.close();
    await gateway?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the gateway starts in beforeAll');
    return value;
  };
  return {
    get gateway() {
      return started(gateway);
    },
    get zimage() {
      return started(zimage);
    },
  };
}

/** Every state a watch yields, once it has ended. */
export async function collect(states: AsyncIterable<Job>): Promise<Job[]> {
  const seen: Job[] = [];
  for await (const state of states) seen.push(state);
  return seen;
}

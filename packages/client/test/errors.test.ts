/** Failures as ZimageError: the contract's codes with their details, and the client's own. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProxy, startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLIENT_ERROR_CODES, createZimageClient, ZimageError } from '../src/index.ts';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway.close();
});

const client = (apiKey: string, url = gateway.url) =>
  createZimageClient({ url, apiKey, webSocketImpl: WebSocket });

async function failure(promise: Promise<unknown>): Promise<ZimageError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (caught: unknown) => caught,
  );
  if (!(error instanceof ZimageError)) throw error;
  return error;
}

describe('the contract’s errors', () => {
  it('BAD_USER_INPUT names the field', async () => {
    const zimage = client(await gateway.key());
    const error = await failure(
      zimage.generate({ prompt: 'x', imageSize: 'SQUARE_1_1', numInferenceSteps: 500 }),
    );
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'numInferenceSteps' });
    expect(error.message).toMatch(/numInferenceSteps/);
  });

  it('RATE_LIMITED says when to come back', async () => {
    const zimage = client(await gateway.key({ limits: { requestsPerMinute: 1 } }));
    await zimage.models();
    const error = await failure(zimage.models());
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('UNAUTHENTICATED for an unknown key, FORBIDDEN for a missing scope', async () => {
    expect(await failure(client('zk_not_a_key').models())).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const readOnly = client(await gateway.key({ scopes: ['read'] }));
    expect(
      await failure(readOnly.generate({ prompt: 'x', imageSize: 'SQUARE_1_1' })),
    ).toMatchObject({ code: 'FORBIDDEN', field: undefined });
  });

  it('a key refused on the WebSocket (4401, 4403) ends the watch and is not retried', async () => {
    const job = await client(await gateway.key()).generate({
      prompt: 'x',
      imageSize: 'SQUARE_1_1',
    });
    const proxy = await HttpProxy.start(gateway.url);
    try {
      const cases = [
        ['zk_not_a_key', 'UNAUTHENTICATED'],
        [await gateway.key({ scopes: ['generate'] }), 'FORBIDDEN'],
      ] as const;
      for (const [apiKey, code] of cases) {
        const sockets = proxy.webSockets;
        const watcher = client(apiKey, proxy.url);
        const error = await failure(watcher.watch(job.id).next());
        expect(error.code).toBe(code);
        expect(proxy.webSockets).toBe(sockets + 1);
        await watcher.close();
      }
    } finally {
      await proxy.close();
    }
  });
});

describe('the client’s own codes', () => {
  it('are named apart from the contract’s', () => {
    expect(CLIENT_ERROR_CODES).toEqual(['NETWORK_ERROR', 'UNEXPECTED_RESPONSE', 'TIMEOUT']);
  });

  it('NETWORK_ERROR when nothing answers, after a bounded number of attempts', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await new Promise((resolve) => closed.once('listening', resolve));
    const { port } = closed.address() as AddressInfo;
    let attempts = 0;
    closed.on('connection', (socket) => {
      attempts += 1;
      socket.destroy();
    });
    try {
      const zimage = createZimageClient({
        url: `http://127.0.0.1:${port}`,
        apiKey: 'zk_x',
        networkRetries: 2,
      });
      const error = await failure(zimage.models());
      expect(error.code).toBe('NETWORK_ERROR');
      expect(error.cause).toBeDefined();
      expect(attempts).toBe(3);
    } finally {
      closed.close();
    }
  });

  it('UNEXPECTED_RESPONSE for an answer that is not GraphQL', async () => {
    // The simulator is an HTTP server that knows nothing of /graphql.
    const error = await failure(client('zk_x', gateway.sim.url).models());
    expect(error.code).toBe('UNEXPECTED_RESPONSE');
    expect(error.message).toMatch(/HTTP 404/);
  });
});

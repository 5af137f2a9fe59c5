/**
 * Graceful shutdown: once the engine stops, new jobs are refused (UPSTREAM_UNAVAILABLE);
 * once the server stops accepting, readiness fails; closing ends WebSockets with 1001.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type GatewayHarness, GENERATE, startGatewayHarness } from './helpers/gateway-harness.ts';

let h: GatewayHarness;

beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(() => h.close());

it('refuses new work, turns unready, then closes sockets with 1001', async () => {
  const { secret } = await h.createKey();
  const socket = new WebSocket(h.gateway.wsUrl, 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    socket.on('open', () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${secret}` } }),
      ),
    );
    socket.on('message', () => resolve());
  });

  await h.gateway.engine.stop();
  const { body } = await h.graphql(GENERATE, {
    key: secret,
    variables: { input: { prompt: 'too late', imageSize: 'SQUARE_1_1' } },
  });
  expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');

  h.gateway.server.stopAccepting();
  // The listener is closed, so a new connection is refused; one still open hears 503.
  const readiness = await fetch(`${h.gateway.url}/readyz`).then(
    (response) => response.status,
    () => 'refused',
  );
  expect([503, 'refused']).toContain(readiness);

  await h.gateway.close();
  expect(await closed).toBe(1001);
});

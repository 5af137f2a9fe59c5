/**
 * INSUFFICIENT_BALANCE and UPSTREAM_UNAVAILABLE as a client of the GraphQL API sees them, once
 * the gateway knows Pixazo cannot take work: after a 402 (a spent wallet) and after a 401 (the
 * gateway's Pixazo key is wrong). The cooldowns run on an injected clock.
 */
import { afterEach, expect, it } from 'vitest';
import {
  collect,
  type GatewayHarness,
  GENERATE,
  SIM_KEY,
  startGatewayHarness,
  TEST_POLL_SCHEDULE,
} from './helpers/gateway-harness.ts';

let h: GatewayHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const input = { prompt: 'a red kite over the dunes', imageSize: 'SQUARE_1_1' };

function testClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

async function generate(harness: GatewayHarness, key: string, variables = { input }) {
  const { body } = await harness.graphql(GENERATE, { key, variables });
  return body;
}

async function generated(harness: GatewayHarness, key: string): Promise<string> {
  const body = await generate(harness, key);
  expect(body.errors).toBeUndefined();
  return (body.data as { generateImage: { id: string } }).generateImage.id;
}

it('answers INSUFFICIENT_BALANCE once Pixazo said 402, without sending anything, until it recovers', async () => {
  const clock = testClock();
  h = await startGatewayHarness({
    sim: { keys: { [SIM_KEY]: 0.008 } },
    engine: { pollSchedule: TEST_POLL_SCHEDULE, upstreamHealth: { now: clock.now } },
  });
  const { secret } = await h.createKey();

  expect((await h.waitForTerminal(secret, await generated(h, secret))).status).toBe('COMPLETED');
  const spent = await h.waitForTerminal(secret, await generated(h, secret));
  expect(spent).toMatchObject({
    status: 'ERROR',
    error: 'Pixazo: insufficient balance',
    costUsd: 0,
  });
  expect(h.sim.countRequests({ route: 'submit' })).toBe(2);

  const body = await generate(h, secret);
  expect(body.data).toBeNull();
  expect(body.errors).toEqual([
    expect.objectContaining({
      message: "The gateway's Pixazo wallet has insufficient balance; try again in 60 s",
      path: ['generateImage'],
      extensions: { code: 'INSUFFICIENT_BALANCE', retryAfterSeconds: 60 },
    }),
  ]);
  // The same over graphql-ws.
  const [result] = await collect(h.wsClient(secret), GENERATE, { input });
  expect(result?.errors?.[0]?.extensions).toEqual({
    code: 'INSUFFICIENT_BALANCE',
    retryAfterSeconds: 60,
  });
  expect(h.sim.countRequests({ route: 'submit' })).toBe(2);
  const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
  expect(metrics).toMatch(/^zimage_pixazo_upstream_state 1$/m);

  h.sim.setBalance(SIM_KEY, 1);
  clock.advance(60_000);
  expect((await h.waitForTerminal(secret, await generated(h, secret))).status).toBe('COMPLETED');
  const healthy = await (await fetch(`${h.gateway.url}/metrics`)).text();
  expect(healthy).toMatch(/^zimage_pixazo_upstream_state 0$/m);
});

it("answers UPSTREAM_UNAVAILABLE once Pixazo rejected the gateway's key (401)", async () => {
  const clock = testClock();
  // The simulator does not know the gateway's key.
  h = await startGatewayHarness({
    sim: { keys: { 'another-key': 5 } },
    engine: { pollSchedule: TEST_POLL_SCHEDULE, upstreamHealth: { now: clock.now } },
  });
  const { secret } = await h.createKey();

  const rejected = await h.waitForTerminal(secret, await generated(h, secret));
  expect(rejected).toMatchObject({
    status: 'ERROR',
    error: "The gateway's Pixazo key was rejected",
    costUsd: 0,
  });
  expect(h.sim.countRequests({ route: 'submit', status: 401 })).toBe(1);

  const body = await generate(h, secret);
  expect(body.errors).toEqual([
    expect.objectContaining({
      message: "Pixazo is rejecting the gateway's API key; try again in 60 s",
      extensions: { code: 'UPSTREAM_UNAVAILABLE', retryAfterSeconds: 60 },
    }),
  ]);
  expect(h.sim.countRequests({ route: 'submit' })).toBe(1);

  // Still rejected after the cooldown: the probe fails and the refusal starts over.
  clock.advance(60_000);
  const probe = await h.waitForTerminal(secret, await generated(h, secret));
  expect(probe.status).toBe('ERROR');
  expect((await generate(h, secret)).errors?.[0]?.extensions).toEqual({
    code: 'UPSTREAM_UNAVAILABLE',
    retryAfterSeconds: 60,
  });
  expect(h.sim.countRequests({ route: 'submit' })).toBe(2);
});

/**
 * A key revoked while its subscriptions run: its graphql-ws sockets close with 4403 and its SSE
 * streams end (with a last UNAUTHENTICATED result), within the key cache's lifetime, shortened
 * here so that the test waits milliseconds. Every wait is for the close or the end itself.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KeyCache } from '../src/auth/authenticate.ts';
import { CSRF_HEADER } from '../src/graphql/yoga.ts';
import { type GatewayHarness, GENERATE, startGatewayHarness } from './helpers/gateway-harness.ts';

let h: GatewayHarness;

beforeAll(async () => {
  h = await startGatewayHarness({
    keyCache: new KeyCache({ ttlMs: 100 }),
    // Real time: a Base job of 100 steps runs for a minute, far longer than the test.
    sim: { timeScale: 1 },
  });
});
afterAll(() => h.close());

const MY_JOBS = 'subscription { myJobs { id status } }';
const JOB_UPDATED = 'subscription ($id: ID!) { jobUpdated(id: $id) { id status } }';

async function longJob(key: string): Promise<string> {
  const { body } = await h.graphql(GENERATE, {
    key,
    variables: {
      input: { prompt: 'outlives its key', imageSize: 'SQUARE_1_1', model: 'Z_IMAGE_BASE' },
    },
  });
  return (body.data as { generateImage: { id: string } }).generateImage.id;
}

/** A graphql-ws socket subscribed to `jobUpdated`; resolves once the first result arrived. */
async function subscribedSocket(key: string, jobId: string) {
  const socket = new WebSocket(h.gateway.wsUrl, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const messages: { id?: string; type: string }[] = [];
  const firstResult = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { id?: string; type: string };
      messages.push(message);
      if (message.type === 'connection_ack') {
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: JOB_UPDATED, variables: { id: jobId } },
          }),
        );
      }
      if (message.type === 'next') resolve();
    });
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }),
  );
  await firstResult;
  /** Runs a query on the socket and resolves when it completes (so the socket is open). */
  const query = (id: string) =>
    new Promise<void>((resolve) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { id?: string; type: string };
        if (message.id === id && message.type === 'complete') resolve();
      });
      socket.send(
        JSON.stringify({ id, type: 'subscribe', payload: { query: '{ viewer { name } }' } }),
      );
    });
  return { closed, query };
}

/**
 * An SSE subscription over POST. Its answer's headers come once the subscription runs; `text()`
 * reads the stream to its end.
 */
async function subscribedStream(key: string, query: string, variables = {}) {
  const response = await fetch(`${h.gateway.url}/graphql`, {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
      [CSRF_HEADER]: '1',
    },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return { text: () => response.text() };
}

it('closes the sockets (4403) and ends the SSE streams of a revoked key', async () => {
  const { secret, record } = await h.createKey();
  const other = await h.createKey();
  const jobId = await longJob(secret);
  const socket = await subscribedSocket(secret, jobId);
  const stream = await subscribedStream(secret, JOB_UPDATED, { id: jobId });
  // Also a stream that never ends by itself, and another key's socket that must stay open.
  const feed = await subscribedStream(secret, MY_JOBS);
  const bystander = await subscribedSocket(other.secret, await longJob(other.secret));

  expect(await h.gateway.store.revokeApiKey(record.id)).toBe(true);

  expect(await socket.closed).toEqual({ code: 4403, reason: 'This API key was revoked' });
  for (const text of [await stream.text(), await feed.text()]) {
    expect(text).toContain('"code":"UNAUTHENTICATED"');
    expect(text).toContain('This API key was revoked');
    expect(text.trimEnd()).toMatch(/event: complete\ndata:$/);
  }
  // The job itself goes on: only its watchers were cut off.
  const job = await h.gateway.store.getJob(jobId);
  expect(job?.status === 'QUEUED' || job?.status === 'PROCESSING').toBe(true);
  // The other key's socket went through the sweep that closed the revoked key's, and still
  // answers.
  await bystander.query('2');
});

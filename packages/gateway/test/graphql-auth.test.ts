/**
 * Authentication and isolation through the server: API keys over HTTP and in graphql-ws's
 * connection_init, scopes, and who sees which jobs (keys, end users, admins).
 */

import { CLOSE_CODES } from '@zimage/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  collect,
  type GatewayHarness,
  GENERATE,
  JOB_UPDATED,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';

let h: GatewayHarness;

beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(() => h.close());

const codesOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  body.errors?.map((e) => e.extensions?.code);

async function generate(key: string, input: Record<string, unknown> = {}) {
  const { body } = await h.graphql(GENERATE, {
    key,
    variables: { input: { prompt: 'isolation', imageSize: 'SQUARE_1_1', ...input } },
  });
  expect(body.errors).toBeUndefined();
  return (body.data as { generateImage: { id: string; endUserId: string | null } }).generateImage;
}

/** Opens a raw graphql-transport-ws socket, sends connection_init, resolves with the close code (or 'ack'). */
function connectionOutcome(payload: Record<string, unknown>): Promise<number | 'ack'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(h.gateway.wsUrl, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') {
        socket.close();
        resolve('ack');
      }
    });
    socket.on('close', (code) => resolve(code));
    socket.on('error', reject);
  });
}

describe('over HTTP', () => {
  it('refuses operations without a key, but allows introspection', async () => {
    const missing = await h.graphql('{ viewer { name } }');
    expect(codesOf(missing.body)).toEqual(['UNAUTHENTICATED']);
    const introspection = await h.graphql('{ __schema { queryType { name } } }');
    expect(introspection.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('refuses unknown, malformed and revoked keys', async () => {
    expect(codesOf((await h.graphql('{ viewer { name } }', { key: 'zk_unknown' })).body)).toEqual([
      'UNAUTHENTICATED',
    ]);
    const malformed = await h.graphql('{ viewer { name } }', {
      headers: { authorization: 'Basic x' },
    });
    expect(codesOf(malformed.body)).toEqual(['UNAUTHENTICATED']);
    const { secret, record } = await h.createKey();
    await h.gateway.store.revokeApiKey(record.id);
    // A fresh key is not in the key cache yet, so the revocation shows at once.
    expect(codesOf((await h.graphql('{ viewer { name } }', { key: secret })).body)).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('checks scopes: generate for mutations, read for queries', async () => {
    const readOnly = await h.createKey({ scopes: ['read'] });
    const denied = await h.graphql(GENERATE, {
      key: readOnly.secret,
      variables: { input: { prompt: 'x', imageSize: 'SQUARE_1_1' } },
    });
    expect(codesOf(denied.body)).toEqual(['FORBIDDEN']);
    const generateOnly = await h.createKey({ scopes: ['generate'] });
    const job = await generate(generateOnly.secret);
    const read = await h.graphql('query ($id: ID!) { job(id: $id) { id } }', {
      key: generateOnly.secret,
      variables: { id: job.id },
    });
    expect(codesOf(read.body)).toEqual(['FORBIDDEN']);
    // Any key may look at itself.
    const viewer = await h.graphql('{ viewer { name scopes } }', { key: generateOnly.secret });
    expect(viewer.body.data).toEqual({ viewer: { name: 'test', scopes: ['generate'] } });
  });

  it('lets only act-as keys act for an end user', async () => {
    const plain = await h.createKey();
    const refused = await h.graphql(GENERATE, {
      key: plain.secret,
      variables: { input: { prompt: 'x', imageSize: 'SQUARE_1_1', endUserId: 'discord:1' } },
    });
    expect(codesOf(refused.body)).toEqual(['FORBIDDEN']);
    const viewer = await h.graphql('{ viewer(endUserId: "discord:1") { name } }', {
      key: plain.secret,
    });
    expect(codesOf(viewer.body)).toEqual(['FORBIDDEN']);
  });
});

describe('over graphql-ws', () => {
  it('closes 4401 without a key or with an unknown one', async () => {
    expect(await connectionOutcome({})).toBe(CLOSE_CODES.UNAUTHENTICATED);
    expect(await connectionOutcome({ authorization: 'Bearer zk_unknown' })).toBe(
      CLOSE_CODES.UNAUTHENTICATED,
    );
  });

  it('closes 4403 for a revoked key or one without the read scope', async () => {
    const revoked = await h.createKey();
    await h.gateway.store.revokeApiKey(revoked.record.id);
    expect(await connectionOutcome({ authorization: `Bearer ${revoked.secret}` })).toBe(
      CLOSE_CODES.FORBIDDEN,
    );
    const generateOnly = await h.createKey({ scopes: ['generate'] });
    expect(await connectionOutcome({ authorization: `Bearer ${generateOnly.secret}` })).toBe(
      CLOSE_CODES.FORBIDDEN,
    );
  });

  it('accepts a valid key, in any letter case of "authorization"', async () => {
    const { secret } = await h.createKey();
    expect(await connectionOutcome({ authorization: `Bearer ${secret}` })).toBe('ack');
    expect(await connectionOutcome({ Authorization: `Bearer ${secret}` })).toBe('ack');
  });
});

describe('isolation', () => {
  it("hides a key's jobs from other keys, and shows everything to admins", async () => {
    const alice = await h.createKey({ name: 'alice' });
    const bob = await h.createKey({ name: 'bob' });
    const job = await generate(alice.secret);

    const asBob = await h.graphql(
      'query ($id: ID!) { job(id: $id) { id } node(id: $id) { id } jobs { edges { node { id } } } }',
      { key: bob.secret, variables: { id: job.id } },
    );
    expect(asBob.body.data).toEqual({ job: null, node: null, jobs: { edges: [] } });
    const cancel = await h.graphql('mutation ($id: ID!) { cancelJob(id: $id) { id } }', {
      key: bob.secret,
      variables: { id: job.id },
    });
    expect(codesOf(cancel.body)).toEqual(['NOT_FOUND']);
    const [followed] = await collect(h.wsClient(bob.secret), JOB_UPDATED, { id: job.id });
    expect(followed?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const asAdmin = await h.graphql('query ($id: ID!) { job(id: $id) { id } }', {
      key: h.adminKey,
      variables: { id: job.id },
    });
    expect(asAdmin.body.data).toEqual({ job: { id: job.id } });
  });

  it('separates the end users of an act-as key', async () => {
    const bot = await h.createKey({ scopes: ['generate', 'read', 'act-as'] });
    const forOne = await generate(bot.secret, { endUserId: 'discord:1' });
    const forTwo = await generate(bot.secret, { endUserId: 'discord:2' });
    expect(forOne.endUserId).toBe('discord:1');

    const listFor = async (endUserId?: string) => {
      const { body } = await h.graphql(
        'query ($u: String) { jobs(endUserId: $u) { edges { node { id } } } }',
        { key: bot.secret, variables: { u: endUserId } },
      );
      return (body.data as { jobs: { edges: { node: { id: string } }[] } }).jobs.edges.map(
        (e) => e.node.id,
      );
    };
    expect(await listFor('discord:1')).toEqual([forOne.id]);
    expect(await listFor('discord:2')).toEqual([forTwo.id]);
    expect(await listFor()).toEqual([forTwo.id, forOne.id]);

    // Not acting for anyone, the key sees all its end users' jobs; acting for one, only theirs.
    const asKey = await h.graphql('query ($id: ID!) { job(id: $id) { id } }', {
      key: bot.secret,
      variables: { id: forTwo.id },
    });
    expect(asKey.body.data).toEqual({ job: { id: forTwo.id } });
    const asOne = await h.graphql(
      'query ($id: ID!) { viewer(endUserId: "discord:1") { endUserId } job(id: $id) { id } }',
      {
        key: bot.secret,
        variables: { id: forTwo.id },
      },
    );
    expect(asOne.body.data).toEqual({ viewer: { endUserId: 'discord:1' }, job: null });
  });
});

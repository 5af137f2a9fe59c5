/**
 * Error codes and limits through the server: bad input (with its field), rate limits per key
 * and per end user, budgets, concurrency, upstream trouble, CSRF, document limits, masking,
 * body size and subscriptions per socket. A request refused here never reaches Pixazo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, GRAPHQL_LIMITS } from '../src/graphql/yoga.ts';
import {
  collect,
  type GatewayHarness,
  GENERATE,
  JOB_UPDATED,
  SIM_KEY,
  startGatewayHarness,
  TEST_POLL_SCHEDULE,
} from './helpers/gateway-harness.ts';

let h: GatewayHarness;
let key: string;
const MAX_PROMPT_LENGTH = 50;
const MAX_SUBSCRIPTIONS_PER_SOCKET = 2;

beforeAll(async () => {
  h = await startGatewayHarness({
    maxPromptLength: MAX_PROMPT_LENGTH,
    maxSubscriptionsPerSocket: MAX_SUBSCRIPTIONS_PER_SOCKET,
    // The 402 of "Pixazo trouble" must not refuse the jobs of the tests after it (the
    // cooldown itself is tested in graphql-upstream.test.ts).
    engine: {
      pollSchedule: TEST_POLL_SCHEDULE,
      upstreamHealth: { cooldownMs: { wallet_empty: 0 } },
    },
  });
  key = (await h.createKey()).secret;
});
afterAll(() => h.close());

type Body = Awaited<ReturnType<GatewayHarness['graphql']>>['body'];
const firstError = (body: Body) => body.errors?.[0]?.extensions ?? {};
const submits = () => h.sim.countRequests({ route: 'submit' });
const input = (extra: Record<string, unknown> = {}) => ({
  prompt: 'limits',
  imageSize: 'SQUARE_1_1',
  ...extra,
});
/** Long enough (about 0.7 s at the test time scale) to still be running when looked at. */
const LONG_JOB = { model: 'Z_IMAGE_BASE', numInferenceSteps: 100 };

describe('BAD_USER_INPUT', () => {
  it.each([
    ['an unknown enum value in variables', input({ imageSize: 'HUGE' }), 'imageSize'],
    ['a missing required field', { imageSize: 'SQUARE_1_1' }, 'prompt'],
    ['steps out of the model’s range', input({ numInferenceSteps: 500 }), 'numInferenceSteps'],
    ['guidance for Turbo', input({ guidanceScale: 3 }), 'guidanceScale'],
    ['an acceleration the model lacks', input({ acceleration: 'FAST' }), 'acceleration'],
    [
      'a prompt over MAX_PROMPT_LENGTH',
      input({ prompt: 'x'.repeat(MAX_PROMPT_LENGTH + 1) }),
      'prompt',
    ],
    ['a blank prompt', input({ prompt: '   ' }), 'prompt'],
  ])('names the field for %s', async (_case, given, field) => {
    const before = submits();
    const { body } = await h.graphql(GENERATE, { key, variables: { input: given } });
    expect(firstError(body)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(submits()).toBe(before);
  });

  it('names the field of a bad literal in the document', async () => {
    const { body } = await h.graphql(
      'mutation { generateImage(input: { prompt: "x", imageSize: HUGE }) { id } }',
      { key },
    );
    expect(firstError(body)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'imageSize' });
  });

  it('codes syntax errors, unknown fields and bad arguments', async () => {
    expect(firstError((await h.graphql('{ viewer {', { key })).body).code).toBe('BAD_USER_INPUT');
    expect(firstError((await h.graphql('{ nope }', { key })).body).code).toBe('BAD_USER_INPUT');
    const { body } = await h.graphql('{ jobs(first: 101) { edges { cursor } } }', { key });
    expect(firstError(body)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});

describe('RATE_LIMITED', () => {
  it('limits requests per minute per key, before anything reaches Pixazo', async () => {
    const limited = await h.createKey({ limits: { requestsPerMinute: 2 } });
    const before = submits();
    await h.graphql('{ viewer { name } }', { key: limited.secret });
    await h.graphql('{ viewer { name } }', { key: limited.secret });
    const { body } = await h.graphql(GENERATE, {
      key: limited.secret,
      variables: { input: input() },
    });
    expect(firstError(body)).toMatchObject({ code: 'RATE_LIMITED' });
    expect(firstError(body).retryAfterSeconds).toBeGreaterThan(0);
    expect(submits()).toBe(before);
  });

  it('limits each end user of an act-as key on its own', async () => {
    const bot = await h.createKey({
      scopes: ['generate', 'read', 'act-as'],
      endUserLimits: { requestsPerMinute: 1 },
    });
    const viewerOf = (endUserId: string) =>
      h.graphql('query ($u: String) { viewer(endUserId: $u) { endUserId } }', {
        key: bot.secret,
        variables: { u: endUserId },
      });
    expect((await viewerOf('discord:1')).body.errors).toBeUndefined();
    expect(firstError((await viewerOf('discord:1')).body).code).toBe('RATE_LIMITED');
    expect((await viewerOf('discord:2')).body.errors).toBeUndefined();
  });

  it('refuses a job past the concurrent-jobs cap', async () => {
    const capped = await h.createKey({ limits: { maxConcurrentJobs: 1 } });
    const first = await h.graphql(GENERATE, {
      key: capped.secret,
      variables: { input: input(LONG_JOB) },
    });
    expect(first.body.errors).toBeUndefined();
    const second = await h.graphql(GENERATE, { key: capped.secret, variables: { input: input() } });
    expect(firstError(second.body)).toMatchObject({ code: 'RATE_LIMITED', maxConcurrentJobs: 1 });
    const { body } = await h.graphql('{ viewer { usage { jobsInFlight maxConcurrentJobs } } }', {
      key: capped.secret,
    });
    expect(body.data?.viewer).toEqual({ usage: { jobsInFlight: 1, maxConcurrentJobs: 1 } });
  });
});

describe('BUDGET_EXCEEDED', () => {
  it('refuses a job that would pass the daily budget, and shows the usage', async () => {
    const frugal = await h.createKey({ limits: { dailyBudgetMicroUsd: 10_000 } });
    const before = submits();
    const ok = await h.graphql(GENERATE, { key: frugal.secret, variables: { input: input() } });
    expect(ok.body.errors).toBeUndefined();
    const refused = await h.graphql(GENERATE, {
      key: frugal.secret,
      variables: { input: input() },
    });
    expect(firstError(refused.body)).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    await h.waitForTerminal(
      frugal.secret,
      (ok.body.data as { generateImage: { id: string } }).generateImage.id,
    );
    expect(submits()).toBe(before + 1);
    const { body } = await h.graphql('{ viewer { usage { spentTodayUsd dailyBudgetUsd } } }', {
      key: frugal.secret,
    });
    expect(body.data?.viewer).toEqual({ usage: { spentTodayUsd: 0.008, dailyBudgetUsd: 0.01 } });
  });

  it('applies budgets per end user', async () => {
    const bot = await h.createKey({
      scopes: ['generate', 'read', 'act-as'],
      endUserLimits: { dailyBudgetMicroUsd: 8_000 },
    });
    const as = (endUserId: string) =>
      h.graphql(GENERATE, { key: bot.secret, variables: { input: input({ endUserId }) } });
    expect((await as('discord:1')).body.errors).toBeUndefined();
    expect(firstError((await as('discord:1')).body).code).toBe('BUDGET_EXCEEDED');
    expect((await as('discord:2')).body.errors).toBeUndefined();
  });
});

describe('Pixazo trouble', () => {
  it('ends a job ERROR, at no cost, when the Pixazo balance is too low', async () => {
    const payer = await h.createKey();
    h.sim.setBalance(SIM_KEY, 0);
    try {
      const { body } = await h.graphql(GENERATE, {
        key: payer.secret,
        variables: { input: input() },
      });
      const job = await h.waitForTerminal(
        payer.secret,
        (body.data as { generateImage: { id: string } }).generateImage.id,
      );
      expect(job).toMatchObject({ status: 'ERROR', costUsd: 0 });
      expect(String(job.error)).toMatch(/insufficient balance/i);
    } finally {
      h.sim.setBalance(SIM_KEY, 100);
    }
  });
});

describe('CSRF prevention', () => {
  it('refuses a request a cross-site form could send, and takes one with the header', async () => {
    const form = await fetch(`${h.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ viewer { name } }' }),
    });
    expect(form.status).toBe(403);
    expect(((await form.json()) as Body).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const url = `${h.gateway.url}/graphql?query=${encodeURIComponent('{ viewer { name } }')}`;
    expect((await fetch(url, { headers: { authorization: `Bearer ${key}` } })).status).toBe(403);
    const withHeader = await fetch(url, {
      headers: { authorization: `Bearer ${key}`, [CSRF_HEADER]: '1', accept: 'application/json' },
    });
    expect(((await withHeader.json()) as Body).data).toEqual({ viewer: { name: 'test' } });
  });
});

describe('document limits', () => {
  it('refuses documents nested too deep', async () => {
    const depth = GRAPHQL_LIMITS.maxDepth + 1;
    const query = `{ node(id: "job_x") { ${'... on Job { '.repeat(depth)}id${' }'.repeat(depth)} } }`;
    const { body } = await h.graphql(query, { key });
    expect(firstError(body).code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.message).toMatch(/depth/i);
  });

  it('refuses too many aliases', async () => {
    const aliases = Array.from(
      { length: GRAPHQL_LIMITS.maxAliases + 1 },
      (_, i) => `a${i}: models { id }`,
    );
    const { body } = await h.graphql(`{ ${aliases.join(' ')} }`, { key });
    expect(firstError(body).code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.message).toMatch(/alias/i);
  });

  it('refuses bodies over the size cap', async () => {
    const response = await fetch(`${h.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: `{ viewer { name } } ${'#'.repeat(GRAPHQL_LIMITS.maxBodyBytes)}`,
      }),
    });
    expect(response.status).toBe(413);
  });
});

describe('unexpected errors', () => {
  it('are masked: no internal detail reaches the caller', async () => {
    const { store } = h.gateway;
    const listJobs = store.listJobs;
    store.listJobs = async () => {
      throw new Error('disk on fire at /var/secret/path');
    };
    try {
      const { body } = await h.graphql('{ jobs { edges { cursor } } }', { key });
      expect(body.errors?.[0]?.message).toBe('Unexpected error.');
      expect(JSON.stringify(body)).not.toContain('secret');
    } finally {
      store.listJobs = listJobs;
    }
  });
});

describe('graphql-ws limits', () => {
  it(`refuses a subscription past ${MAX_SUBSCRIPTIONS_PER_SOCKET} on one socket`, async () => {
    const jobs = [];
    for (let i = 0; i <= MAX_SUBSCRIPTIONS_PER_SOCKET; i++) {
      const { body } = await h.graphql(GENERATE, { key, variables: { input: input(LONG_JOB) } });
      jobs.push((body.data as { generateImage: { id: string } }).generateImage.id);
    }
    const client = h.wsClient(key);
    const outcomes = await Promise.all(jobs.map((id) => collect(client, JOB_UPDATED, { id })));
    const refused = outcomes.filter((results) => results[0]?.errors);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

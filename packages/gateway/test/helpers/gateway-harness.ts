/**
 * A whole gateway for integration tests: `startGateway` on 127.0.0.1:0 in a temp data dir, the
 * Pixazo simulator (small time scale, no rate limit) as Pixazo, and clients that speak to it
 * over real HTTP and WebSockets.
 */

import { createServer } from 'node:net';
import { type PixazoSim, type PixazoSimOptions, startPixazoSim } from '@zimage/pixazo-sim';
import type { ExecutionResult } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createApiKey, NO_LIMITS } from '../../src/auth/api-keys.ts';
import type { ApiKeyRecord, KeyLimits, Limits, Scope } from '../../src/domain/principal.ts';
import { type RunningGateway, type StartGatewayOptions, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/logger.ts';
import { waitForJob } from './engine-harness.ts';

export const SIM_KEY = 'dev-key';

export const TEST_POLL_SCHEDULE = {
  firstDelayMs: 20,
  factor: 1.5,
  minIntervalMs: 10,
  maxIntervalMs: 40,
};

export interface GraphqlResponse {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
  };
}

export interface GraphqlRequest {
  variables?: Record<string, unknown>;
  /** An API key secret: sent as `Authorization: Bearer <key>`. */
  key?: string;
  headers?: Record<string, string>;
}

export interface GatewayHarness {
  gateway: RunningGateway;
  sim: PixazoSim;
  adminKey: string;
  graphql(query: string, request?: GraphqlRequest): Promise<GraphqlResponse>;
  createKey(options?: {
    scopes?: Scope[];
    limits?: Partial<KeyLimits>;
    endUserLimits?: Partial<Limits>;
    name?: string;
  }): Promise<{ secret: string; record: ApiKeyRecord }>;
  /** A graphql-ws client; closed by close(). */
  wsClient(key: string | undefined): Client;
  /** `job(id)` as `key` sees it (JOB_FIELDS); throws when the key cannot see the job. */
  job(key: string, id: string): Promise<Record<string, unknown>>;
  /** Waits for the job's terminal change on the gateway's pub/sub, then reads it as `job`. */
  waitForTerminal(key: string, id: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export const JOB_FIELDS = `
  id status model prompt imageSize numInferenceSteps guidanceScale numImages
  enableSafetyChecker outputFormat acceleration queuePosition error costUsd requestId
  endUserId createdAt updatedAt startedAt completedAt
  images { url width height contentType }
`;

/** A free loopback port, so PUBLIC_URL can be known before the gateway listens. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function startTestSim(options: PixazoSimOptions = {}): Promise<PixazoSim> {
  return startPixazoSim({
    timeScale: 0.01,
    rateLimit: false,
    keys: { [SIM_KEY]: 100 },
    ...options,
  });
}

export async function startGatewayHarness(
  options: Partial<StartGatewayOptions> & {
    sim?: PixazoSimOptions;
    /** A simulator shared with other gateways (scale-out): used as is, left running by close(). */
    sharedSim?: PixazoSim;
  } = {},
): Promise<GatewayHarness> {
  const { sim: simOptions, sharedSim, ...gatewayOptions } = options;
  const sim = sharedSim ?? (await startTestSim(simOptions));
  const gateway = await startGateway({
    pixazo: { baseUrl: sim.url, apiKey: SIM_KEY },
    logger: createLogger({ level: process.env.LOG_LEVEL ?? 'silent' }),
    engine: { pollSchedule: TEST_POLL_SCHEDULE },
    ...gatewayOptions,
  });
  const adminKey = gateway.adminKey as string;
  const clients: Client[] = [];

  const graphql: GatewayHarness['graphql'] = async (query, request = {}) => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(request.key ? { authorization: `Bearer ${request.key}` } : {}),
        ...request.headers,
      },
      body: JSON.stringify({ query, variables: request.variables }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as GraphqlResponse['body'],
    };
  };

  const job: GatewayHarness['job'] = async (key, id) => {
    const { body } = await graphql(`query ($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, {
      key,
      variables: { id },
    });
    const found = body.data?.job as Record<string, unknown> | null;
    if (!found) throw new Error(`job ${id} not visible: ${JSON.stringify(body)}`);
    return found;
  };

  return {
    gateway,
    sim,
    adminKey,
    graphql,
    async createKey({ scopes, limits, endUserLimits, name = 'test' } = {}) {
      const { secret, record } = await createApiKey(gateway.store, {
        name,
        scopes: scopes ?? ['generate', 'read'],
        limits: { ...NO_LIMITS, ...limits },
        endUserLimits: { ...NO_LIMITS, ...endUserLimits },
      });
      return { secret, record };
    },
    wsClient(key) {
      const client = createClient({
        url: gateway.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: key ? { authorization: `Bearer ${key}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    job,
    async waitForTerminal(key, id) {
      await waitForJob(gateway, id);
      return job(key, id);
    },
    async close() {
      await Promise.all(clients.map((client) => client.dispose()));
      await gateway.close();
      if (!sharedSim) await sim.close();
    },
  };
}

/** Every result of a graphql-ws operation until it completes (or its first error). */
export function collect(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Promise<ExecutionResult[]> {
  return new Promise((resolve, reject) => {
    const results: ExecutionResult[] = [];
    client.subscribe(
      { query, variables },
      {
        next: (result) => results.push(result as ExecutionResult),
        error: (error) => (Array.isArray(error) ? resolve([{ errors: error }]) : reject(error)),
        complete: () => resolve(results),
      },
    );
  });
}

/** The `event: next` payloads of an SSE answer, read until `event: complete`. */
export async function readSse(response: Response): Promise<ExecutionResult[]> {
  const text = await response.text();
  const results: ExecutionResult[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const event = lines
      .find((line) => line.startsWith('event:'))
      ?.slice(6)
      .trim();
    const data = lines
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trim())
      .join('\n');
    if (event === 'next' && data) results.push(JSON.parse(data) as ExecutionResult);
  }
  return results;
}

export const GENERATE = `
  mutation ($input: GenerateImageInput!) { generateImage(input: $input) { ${JOB_FIELDS} } }
`;

export const JOB_UPDATED = `
  subscription ($id: ID!) { jobUpdated(id: $id) { ${JOB_FIELDS} } }
`;

/**
 * createZimageClient: the gateway's GraphQL API as typed methods. Queries and mutations go
 * over HTTP POST to `<url>/graphql`, job updates over graphql-ws on the same path. A client
 * acts for one end user (or none); `forEndUser` derives one for another end user that shares
 * the connection, which is how a bot acting for many users keeps one socket.
 */
import { print } from '@0no-co/graphql.web';
import { isTerminalStatus } from '@zimage/contract';
import type { Client as SocketClient } from 'graphql-ws';
import {
  CancelMutation,
  type GenerateInput,
  GenerateMutation,
  type Job,
  JobQuery,
  type JobsFilter,
  JobsQuery,
  JobUpdatedSubscription,
  type ModelInfo,
  ModelsQuery,
  type PageInfo,
  type Viewer,
  ViewerQuery,
} from './documents.ts';
import { ZimageError } from './errors.ts';
import { createHttpTransport, type RequestOptions } from './http-transport.ts';
import { jobStream } from './job-stream.ts';
import { createSocket } from './socket.ts';

export interface ZimageClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:4000` (a URL ending in /graphql works too). */
  url: string;
  /** An API key's secret, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Act for this end user (the key needs the act-as scope); see `forEndUser`. */
  endUserId?: string | undefined;
  /** A WebSocket constructor for `watch` and `waitFor`; default globalThis.WebSocket. Node 20 has none: pass `ws`. */
  webSocketImpl?: unknown;
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Per HTTP attempt, in ms; default 30 000. */
  requestTimeoutMs?: number;
  /** Further attempts of a request that got no answer; default 2. */
  networkRetries?: number;
}

export interface JobPage {
  nodes: Job[];
  pageInfo: PageInfo;
}

export interface WatchOptions {
  signal?: AbortSignal | undefined;
}

export interface WaitForOptions {
  /** Give up with a ZimageError TIMEOUT after this many ms (the job goes on). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface ZimageClient {
  /** The end user this client acts for, if any. */
  readonly endUserId: string | undefined;
  /**
   * Queues a job. Sends `input.idempotencyKey`, or a random one, so that the retries of a
   * request that got no answer return the same job instead of paying twice.
   */
  generate(input: GenerateInput, options?: RequestOptions): Promise<Job>;
  /** The job, or null when there is none this client may see. */
  job(id: string, options?: RequestOptions): Promise<Job | null>;
  /** Newest first; `pageInfo.endCursor` is the next page's `after`. */
  jobs(filter?: JobsFilter, options?: RequestOptions): Promise<JobPage>;
  models(options?: RequestOptions): Promise<ModelInfo[]>;
  /** The API key, and its (or the end user's) usage against its limits today. */
  viewer(options?: RequestOptions): Promise<Viewer>;
  cancel(id: string, options?: RequestOptions): Promise<Job>;
  /**
   * The job's current state first, then every change; ends after a terminal state. Survives
   * dropped connections (see job-stream.ts); a `break` or the signal ends it.
   */
  watch(id: string, options?: WatchOptions): AsyncGenerator<Job, void, undefined>;
  /** The job once it is terminal. */
  waitFor(id: string, options?: WaitForOptions): Promise<Job>;
  /** A client acting for `endUserId`, sharing this one's connection. */
  forEndUser(endUserId: string): ZimageClient;
  /** Closes the shared WebSocket (of every client derived from the same one). */
  close(): Promise<void>;
}

/** The gateway's base URL, without a trailing slash or `/graphql`. */
function baseUrlOf(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/graphql$/, '');
}

/** 16 random bytes as hex; crypto.getRandomValues works where randomUUID does not (plain http). */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function createZimageClient(options: ZimageClientOptions): ZimageClient {
  const graphqlUrl = `${baseUrlOf(options.url)}/graphql`;
  const authorization = `Bearer ${options.apiKey}`;
  const request = createHttpTransport({
    graphqlUrl,
    authorization,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    networkRetries: options.networkRetries ?? 2,
  });
  let socket: SocketClient | undefined;
  const openSocket = () => {
    socket ??= createSocket({
      url: graphqlUrl.replace(/^http/, 'ws'),
      authorization,
      webSocketImpl: options.webSocketImpl,
    });
    return socket;
  };
  const jobUpdatedQuery = print(JobUpdatedSubscription);

  const clientFor = (endUserId: string | undefined): ZimageClient => {
    const client: ZimageClient = {
      endUserId,

      async generate(input, requestOptions) {
        const idempotencyKey = input.idempotencyKey ?? randomKey();
        const data = await request(
          GenerateMutation,
          { input: { ...input, idempotencyKey, endUserId } },
          requestOptions,
        );
        return data.generateImage;
      },

      async job(id, requestOptions) {
        const { job } = await request(JobQuery, { id }, requestOptions);
        // `job` takes no endUserId: the key sees all its end users' jobs, this client only one's.
        return job === null || (endUserId !== undefined && job.endUserId !== endUserId)
          ? null
          : job;
      },

      async jobs(filter = {}, requestOptions) {
        const { jobs } = await request(JobsQuery, { ...filter, endUserId }, requestOptions);
        return { nodes: jobs.edges.map((edge) => edge.node), pageInfo: jobs.pageInfo };
      },

      async models(requestOptions) {
        return (await request(ModelsQuery, {}, requestOptions)).models;
      },

      async viewer(requestOptions) {
        return (await request(ViewerQuery, { endUserId }, requestOptions)).viewer;
      },

      async cancel(id, requestOptions) {
        const data = await request(CancelMutation, { id, endUserId }, requestOptions);
        return data.cancelJob;
      },

      watch(id, watchOptions = {}) {
        return jobStream({
          socket: openSocket,
          query: jobUpdatedQuery,
          variables: { id, endUserId },
          signal: watchOptions.signal,
        });
      },

      async waitFor(id, { timeoutMs, signal } = {}) {
        const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
        const signals = [signal, timeout].filter((s): s is AbortSignal => s !== undefined);
        try {
          for await (const job of client.watch(id, { signal: AbortSignal.any(signals) })) {
            if (isTerminalStatus(job.status)) return job;
          }
        } catch (error) {
          if (timeout?.aborted && !signal?.aborted) {
            throw new ZimageError('TIMEOUT', `Job ${id} did not end within ${timeoutMs} ms`);
          }
          throw error;
        }
        throw new ZimageError('UNEXPECTED_RESPONSE', `Watching job ${id} ended before it did`);
      },

      forEndUser: (other) => clientFor(other),

      async close() {
        const open = socket;
        socket = undefined;
        await open?.dispose();
      },
    };
    return client;
  };

  return clientFor(options.endUserId);
}

/**
 * An in-memory gateway for component tests: the gateway's printed schema, executed by graphql-js
 * with simple resolvers, behind the same urql client (graphcache and all) the browser uses. Only
 * the transport is replaced; every operation the dashboard sends is validated against the
 * schema. The end-to-end tests run the real gateway.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSchema, execute, GraphQLError, parse, subscribe } from 'graphql';
import { type Exchange, subscriptionExchange } from 'urql';
import type { Job, JobStatus, ModelInfo, Usage } from '../../src/graphql/operations.ts';

const schema = buildSchema(
  readFileSync(resolve(import.meta.dirname, '../../../../packages/gateway/schema.graphql'), 'utf8'),
);

export const MODELS: ModelInfo[] = [
  {
    id: 'Z_IMAGE_TURBO',
    name: 'Z-Image Turbo',
    priceUsdPerImage: 0.008,
    defaultSteps: 8,
    minSteps: 1,
    maxSteps: 50,
    supportsGuidanceScale: false,
    defaultGuidanceScale: null,
    minGuidanceScale: null,
    maxGuidanceScale: null,
    maxImages: 4,
    accelerations: ['NONE'],
    defaultAcceleration: 'NONE',
  },
  {
    id: 'Z_IMAGE_BASE',
    name: 'Z-Image Base',
    priceUsdPerImage: 0.01,
    defaultSteps: 28,
    minSteps: 10,
    maxSteps: 100,
    supportsGuidanceScale: true,
    defaultGuidanceScale: 4,
    minGuidanceScale: 1,
    maxGuidanceScale: 20,
    maxImages: 4,
    accelerations: ['REGULAR', 'FAST', 'ULTRA_FAST'],
    defaultAcceleration: 'REGULAR',
  },
];

export interface RecordedOperation {
  name: string;
  variables: Record<string, unknown>;
}

type Listener = (job: Job) => void;

const at = (base: number, offsetMs: number) => new Date(base + offsetMs).toISOString();

export function createFakeGateway() {
  const jobs = new Map<string, Job>();
  const listeners = new Set<Listener>();
  const operations: RecordedOperation[] = [];
  const failures = new Map<string, GraphQLError>();
  const usage: Usage = {
    spentTodayUsd: 0,
    dailyBudgetUsd: 5,
    jobsInFlight: 0,
    maxConcurrentJobs: 4,
  };
  let sequence = 0;
  const startTime = Date.parse('2025-06-01T12:00:00Z');

  function makeJob(fields: Partial<Job> = {}): Job {
    sequence += 1;
    const createdAt = at(startTime, sequence * 1000);
    return {
      id: `job_${String(sequence).padStart(4, '0')}`,
      model: 'Z_IMAGE_TURBO',
      prompt: `prompt ${sequence}`,
      imageSize: 'SQUARE_1_1',
      numInferenceSteps: 8,
      guidanceScale: null,
      numImages: 1,
      enableSafetyChecker: true,
      outputFormat: 'PNG',
      acceleration: 'NONE',
      status: 'QUEUED',
      queuePosition: null,
      error: null,
      costUsd: 0.008,
      requestId: null,
      createdAt,
      updatedAt: createdAt,
      startedAt: null,
      completedAt: null,
      images: [],
      ...fields,
    };
  }

  const publish = (job: Job) => {
    for (const listener of listeners) listener(job);
  };

  /** Newest first, like the gateway; cursors are job ids. */
  function listJobs(args: {
    first?: number | null;
    after?: string | null;
    status?: JobStatus | null;
    model?: string | null;
    search?: string | null;
  }) {
    const matching = [...jobs.values()]
      .filter((job) => !args.status || job.status === args.status)
      .filter((job) => !args.model || job.model === args.model)
      .filter((job) => !args.search || job.prompt.toLowerCase().includes(args.search.toLowerCase()))
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    const start = args.after ? matching.findIndex((job) => job.id === args.after) + 1 : 0;
    const page = matching.slice(start, start + (args.first ?? 20));
    return {
      edges: page.map((node) => ({ cursor: node.id, node })),
      pageInfo: {
        hasNextPage: start + page.length < matching.length,
        hasPreviousPage: start > 0,
        startCursor: page[0]?.id ?? null,
        endCursor: page.at(-1)?.id ?? null,
      },
    };
  }

  function failIfAsked(name: string) {
    const failure = failures.get(name);
    if (failure) {
      failures.delete(name);
      throw failure;
    }
  }

  function listen(): AsyncIterableIterator<{ myJobs: Job }> {
    const queue: Job[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const listener: Listener = (job) => {
      queue.push(job);
      wake?.();
    };
    listeners.add(listener);
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        while (!done && queue.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        const job = queue.shift();
        return done || !job
          ? { done: true, value: undefined }
          : { done: false, value: { myJobs: job } };
      },
      async return() {
        done = true;
        listeners.delete(listener);
        wake?.();
        return { done: true, value: undefined };
      },
    };
  }

  const rootValue = {
    models: () => MODELS,
    viewer: () => {
      failIfAsked('Viewer');
      return { name: 'Test key', keyPrefix: 'zk_test', scopes: ['generate', 'read'], usage };
    },
    jobs: (args: Parameters<typeof listJobs>[0]) => listJobs(args),
    job: ({ id }: { id: string }) => jobs.get(id) ?? null,
    node: ({ id }: { id: string }) => {
      const job = jobs.get(id);
      return job ? { __typename: 'Job', ...job } : null;
    },
    generateImage: ({ input }: { input: Record<string, unknown> }) => {
      failIfAsked('GenerateImage');
      const model = MODELS.find((m) => m.id === (input.model ?? 'Z_IMAGE_TURBO')) ?? MODELS[0];
      const numImages = (input.numImages as number | undefined) ?? 1;
      const queued = [...jobs.values()].filter((job) => job.queuePosition != null).length;
      const job = makeJob({
        model: model?.id,
        prompt: String(input.prompt),
        imageSize: input.imageSize as Job['imageSize'],
        numInferenceSteps: (input.numInferenceSteps as number | undefined) ?? model?.defaultSteps,
        guidanceScale: (input.guidanceScale as number | undefined) ?? null,
        numImages,
        enableSafetyChecker: (input.enableSafetyChecker as boolean | undefined) ?? true,
        outputFormat: (input.outputFormat as Job['outputFormat'] | undefined) ?? 'PNG',
        acceleration: (input.acceleration as Job['acceleration'] | undefined) ?? 'NONE',
        costUsd: (model?.priceUsdPerImage ?? 0) * numImages,
        queuePosition: queued + 1,
      });
      jobs.set(job.id, job);
      publish(job);
      return job;
    },
    cancelJob: ({ id }: { id: string }) => {
      failIfAsked('CancelJob');
      return gateway.updateJob(id, { status: 'CANCELLED', queuePosition: null, costUsd: 0 });
    },
    myJobs: () => listen(),
  };

  const transport: Exchange[] = [
    subscriptionExchange({
      enableAllOperations: true,
      forwardSubscription: (request, operation) => ({
        subscribe(sink) {
          const document = parse(request.query ?? '');
          const variableValues = (request.variables ?? {}) as Record<string, unknown>;
          operations.push({ name: request.operationName ?? '', variables: variableValues });
          let iterator: AsyncIterator<unknown> | undefined;
          let closed = false;
          void (async () => {
            if (operation.kind === 'subscription') {
              const result = await subscribe({ schema, document, rootValue, variableValues });
              if (Symbol.asyncIterator in result) {
                iterator = result[Symbol.asyncIterator]();
                for (;;) {
                  const next = await iterator.next();
                  if (next.done || closed) break;
                  sink.next(next.value as never);
                }
              } else {
                sink.next(result as never);
              }
            } else {
              sink.next((await execute({ schema, document, rootValue, variableValues })) as never);
            }
            if (!closed) sink.complete();
          })();
          return {
            unsubscribe() {
              closed = true;
              void iterator?.return?.();
            },
          };
        },
      }),
    }),
  ];

  const gateway = {
    transport,
    jobs,
    usage,
    /** Every operation sent, in order (names are the operation names, e.g. 'GenerateImage'). */
    operations,
    operationsNamed: (name: string) => operations.filter((operation) => operation.name === name),
    /** Stores a job as if created earlier (no event): what a page load finds on the server. */
    addJob(fields: Partial<Job> = {}): Job {
      const job = makeJob(fields);
      jobs.set(job.id, job);
      return job;
    },
    /** Changes a job and, unless `silently`, sends the `myJobs` event for it. */
    updateJob(id: string, patch: Partial<Job>, { silently = false } = {}): Job {
      const current = jobs.get(id);
      if (!current) throw new Error(`no job ${id}`);
      const job = { ...current, ...patch, updatedAt: new Date().toISOString() };
      jobs.set(id, job);
      if (!silently) publish(job);
      return job;
    },
    /** The next operation of this name fails with a gateway error. */
    failNext(
      name: string,
      code: string,
      message: string,
      extensions: Record<string, unknown> = {},
    ) {
      failures.set(name, new GraphQLError(message, { extensions: { ...extensions, code } }));
    },
    /** A completed job's fields, with its images. */
    completed(job: Job, runMs = 4000): Partial<Job> {
      const startedAt = at(Date.parse(job.createdAt), 500);
      return {
        status: 'COMPLETED',
        queuePosition: null,
        startedAt,
        completedAt: at(Date.parse(startedAt), runMs),
        images: Array.from({ length: job.numImages }, (_, index) => ({
          url: `/images/${job.id}/${index}.png`,
          width: 1024,
          height: 1024,
          contentType: 'image/png',
        })),
      };
    },
  };
  return gateway;
}

export type FakeGateway = ReturnType<typeof createFakeGateway>;

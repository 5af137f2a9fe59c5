/**
 * An in-memory gateway for component tests: the gateway's printed schema, executed by graphql-js
 * with simple resolvers, behind the same urql client (graphcache and all) the browser uses. Only
 * the transport is replaced; every operation the dashboard sends is validated against the
 * schema. The models, their limits and the input defaults are the real gateway's
 * (gateway-answers.ts, the schema); the end-to-end tests run the real gateway.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  buildSchema,
  execute,
  type GraphQLEnumType,
  GraphQLError,
  type GraphQLInputObjectType,
  parse,
  subscribe,
} from 'graphql';
import { type Exchange, subscriptionExchange } from 'urql';
import { inject } from 'vitest';
import type { Job, JobStatus, Usage } from '../../src/graphql/operations.ts';
import { createFakeAdmin } from './fake-admin.ts';

const schema = buildSchema(
  readFileSync(resolve(import.meta.dirname, '../../../../packages/gateway/schema.graphql'), 'utf8'),
);

/** The real gateway's answer to the dashboard's own Models query. */
export const MODELS_ANSWER = inject('modelsAnswer');
const MODELS = MODELS_ANSWER.models;
const DEFAULT_DURATION_MS = inject('defaultDurationMs');

export const modelInfo = (id: Job['model']) => {
  const model = MODELS.find((candidate) => candidate.id === id);
  if (!model) throw new Error(`the gateway has no model ${id}`);
  return model;
};

export const enumValuesOf = (name: string) =>
  (schema.getType(name) as GraphQLEnumType).getValues().map((value) => value.name);

const generateImageInput = schema.getType('GenerateImageInput') as GraphQLInputObjectType;
/** GenerateImageInput's default for a field, as the schema gives it. */
export const inputDefault = <T>(field: string) =>
  generateImageInput.getFields()[field]?.defaultValue as T;
const DEFAULT_MODEL = modelInfo(inputDefault('model'));

/** An image size's pixels, from the schema's description of it ("1024×768"). */
function pixelsOf(imageSize: Job['imageSize']) {
  const description = (schema.getType('ImageSize') as GraphQLEnumType).getValue(
    imageSize,
  )?.description;
  const [width, height] = (description ?? '').split('×').map(Number);
  if (!width || !height) throw new Error(`no pixel size for ${imageSize}`);
  return { width, height };
}

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
  const holds = new Map<string, Promise<void>>();
  const usage: Usage = {
    spentTodayUsd: 0,
    dailyBudgetUsd: 5,
    jobsInFlight: 0,
    maxConcurrentJobs: 4,
  };
  const admin = createFakeAdmin();
  const viewer = { name: 'Test key', keyPrefix: 'zk_test', scopes: ['generate', 'read'] };
  let sequence = 0;
  const startTime = Date.parse('2025-06-01T12:00:00Z');

  /**
   * A job of the default model at its defaults unless `fields` say otherwise. Its expected run
   * time is the gateway's for the model's default settings.
   */
  function makeJob(fields: Partial<Job> = {}): Job {
    sequence += 1;
    const createdAt = at(startTime, sequence * 1000);
    const model = modelInfo(fields.model ?? DEFAULT_MODEL.id);
    const numImages = fields.numImages ?? inputDefault<number>('numImages');
    return {
      id: `job_${String(sequence).padStart(4, '0')}`,
      model: model.id,
      prompt: `prompt ${sequence}`,
      imageSize: 'SQUARE_1_1',
      numInferenceSteps: model.defaultSteps,
      guidanceScale: model.defaultGuidanceScale,
      numImages,
      enableSafetyChecker: inputDefault('enableSafetyChecker'),
      outputFormat: inputDefault('outputFormat'),
      acceleration: model.defaultAcceleration,
      status: 'QUEUED',
      queuePosition: null,
      error: null,
      costUsd: model.priceUsdPerImage * numImages,
      requestId: null,
      endUserId: null,
      apiKey: null,
      expectedDurationMs: DEFAULT_DURATION_MS[model.id] ?? 0,
      createdAt,
      updatedAt: createdAt,
      startedAt: null,
      completedAt: null,
      imagesExpiredAt: null,
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
      return { ...viewer, usage };
    },
    jobs: (args: Parameters<typeof listJobs>[0]) => listJobs(args),
    job: ({ id }: { id: string }) => jobs.get(id) ?? null,
    node: ({ id }: { id: string }) => {
      const job = jobs.get(id);
      return job ? { __typename: 'Job', ...job } : null;
    },
    // graphql-js has filled in the input's defaults; the model's own ones are makeJob's.
    generateImage: ({ input }: { input: Partial<Job> & Pick<Job, 'model' | 'prompt'> }) => {
      failIfAsked('GenerateImage');
      const queued = [...jobs.values()].filter((job) => job.queuePosition != null).length;
      const { idempotencyKey: _, ...fields } = input as typeof input & { idempotencyKey?: string };
      const job = makeJob({ ...fields, queuePosition: queued + 1 });
      jobs.set(job.id, job);
      publish(job);
      return job;
    },
    cancelJob: ({ id }: { id: string }) => {
      failIfAsked('CancelJob');
      return gateway.updateJob(id, { status: 'CANCELLED', queuePosition: null, costUsd: 0 });
    },
    myJobs: () => listen(),
    ...admin.rootValue,
    createApiKey: (args: Parameters<typeof admin.rootValue.createApiKey>[0]) => {
      failIfAsked('CreateApiKey');
      return admin.rootValue.createApiKey(args);
    },
    updateApiKeyLimits: (args: Parameters<typeof admin.rootValue.updateApiKeyLimits>[0]) => {
      failIfAsked('UpdateApiKeyLimits');
      return admin.rootValue.updateApiKeyLimits(args);
    },
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
              const result = await execute({ schema, document, rootValue, variableValues });
              const hold = holds.get(request.operationName ?? '');
              if (hold) {
                holds.delete(request.operationName ?? '');
                await hold;
              }
              sink.next(result as never);
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
    /** The signed-in key's name, prefix and scopes (`viewer`). */
    viewer,
    /** The gateway's API keys and its usage report's entries. */
    admin,
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
    /**
     * The next operation of this name is executed at once (its events are sent) but its answer
     * is held until the returned function is called: an answer overtaken by later events.
     */
    holdNextAnswer(name: string): () => void {
      let release = () => {};
      holds.set(name, new Promise<void>((resolve) => (release = resolve)));
      return () => release();
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
          ...pixelsOf(job.imageSize),
          contentType: 'image/png',
          byteLength: 250_000,
        })),
      };
    },
  };
  return gateway;
}

export type FakeGateway = ReturnType<typeof createFakeGateway>;

/**
 * Jobs: the Job type and its images, the job queries (one job, a newest-first page), the
 * mutations that create and cancel jobs, and the subscriptions that follow them. The
 * connection types are written by hand to match the contract's nullability exactly.
 *
 * `endUserId` arguments are applied to the caller before any resolver runs
 * (graphql/admission.ts), so resolvers only see a principal already acting for the end user.
 */
import { expectedDurationMs, MODELS, microUsdToUsd } from '@zimage/core';
import { JOB_STATUSES, type JobRecord, type JobStatus, type StoredImage } from '../domain/job.ts';
import { hasScope, type Principal } from '../domain/principal.ts';
import { badUserInput } from '../errors.ts';
import { imageUrlPath } from '../images/image-store.ts';
import { topics } from '../pubsub/pubsub.ts';
import { type JobFilter, MAX_JOBS_PAGE_SIZE } from '../store/store.ts';
import { followJob, jobChanges } from '../subscriptions/job-streams.ts';
import {
  ACT_FOR_END_USER,
  findVisibleJob,
  getVisibleJob,
  requireScope,
  visibleJobsFilter,
} from './access.ts';
import { builder } from './builder.ts';
import { AccelerationEnum, ImageSizeEnum, ModelEnum, OutputFormatEnum } from './model.ts';
import { NodeInterface } from './node.ts';
import { idConnection, pageArgs, readPageArgs } from './page-info.ts';

const STATUS_DESCRIPTIONS: Partial<Record<JobStatus, string>> = {
  QUEUED: 'Accepted by the gateway; waiting for a submission slot or for Pixazo to start it.',
  FAILED: 'Pixazo reported FAILED (check error).',
  ERROR: 'Pixazo or the gateway hit a system error; Pixazo does not charge for these.',
  CANCELLED:
    "Cancelled by its owner while it waited in the gateway's queue, before submission to Pixazo; it cost nothing.",
};

export const JobStatusEnum = builder.enumType('JobStatus', {
  values: Object.fromEntries(
    JOB_STATUSES.map((status) => [
      status,
      { value: status, description: STATUS_DESCRIPTIONS[status] },
    ]),
  ) as Record<JobStatus, { value: JobStatus; description?: string }>,
});

interface ImageShape {
  jobId: string;
  image: StoredImage;
}

const Image = builder.objectRef<ImageShape>('Image').implement({
  description: 'A generated image, stored by the gateway.',
  fields: (t) => ({
    url: t.string({
      description:
        'Served by the gateway itself, so it keeps working after the Pixazo CDN link expires.',
      resolve: ({ jobId, image }, _args, context) =>
        `${context.publicOrigin ?? ''}${imageUrlPath(jobId, image.fileName)}`,
    }),
    width: t.int({ resolve: ({ image }) => image.width }),
    height: t.int({ resolve: ({ image }) => image.height }),
    contentType: t.string({ resolve: ({ image }) => image.contentType }),
    byteLength: t.int({
      description: 'File size in bytes.',
      resolve: ({ image }) => image.byteLength,
    }),
  }),
});

export const Job = builder.objectRef<JobRecord>('Job').implement({
  description: 'One text-to-image request and everything that happened to it.',
  interfaces: [NodeInterface],
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'ownerKeyId' in value,
  fields: (t) => ({
    id: t.exposeID('id'),
    model: t.field({ type: ModelEnum, resolve: (job) => job.model }),
    prompt: t.exposeString('prompt'),
    imageSize: t.field({ type: ImageSizeEnum, resolve: (job) => job.imageSize }),
    numInferenceSteps: t.exposeInt('numInferenceSteps'),
    guidanceScale: t.exposeFloat('guidanceScale', { nullable: true }),
    numImages: t.exposeInt('numImages'),
    enableSafetyChecker: t.exposeBoolean('enableSafetyChecker'),
    outputFormat: t.field({ type: OutputFormatEnum, resolve: (job) => job.outputFormat }),
    acceleration: t.field({ type: AccelerationEnum, resolve: (job) => job.acceleration }),
    status: t.field({ type: JobStatusEnum, resolve: (job) => job.status }),
    queuePosition: t.int({
      nullable: true,
      description:
        "Position in the gateway's own queue while QUEUED and not yet submitted; null otherwise.",
      resolve: (job, _args, context) =>
        job.status === 'QUEUED' ? context.engine.queuePosition(job.id) : null,
    }),
    images: t.field({
      type: [Image],
      resolve: (job) => job.images.map((image) => ({ jobId: job.id, image })),
    }),
    error: t.exposeString('error', { nullable: true }),
    costUsd: t.float({
      description: 'What Pixazo charges (or charged) for this job, in USD.',
      resolve: (job) => microUsdToUsd(job.costMicroUsd),
    }),
    requestId: t.exposeString('requestId', {
      nullable: true,
      description: "Pixazo's request_id once submitted.",
    }),
    endUserId: t.exposeString('endUserId', { nullable: true }),
    expectedDurationMs: t.int({
      description:
        "How long Pixazo usually takes for this job's settings, from submission to its result, in milliseconds (ModelInfo.expectedDurationMs for them).",
      resolve: (job) => expectedDurationMs(MODELS[job.model], job),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    imagesExpiredAt: t.expose('imagesExpiredAt', {
      type: 'DateTime',
      nullable: true,
      description: "Set once retention deleted this job's images; their URLs then answer 410 Gone.",
    }),
  }),
});

const JobConnection = idConnection('Job', Job);

const MAX_SEARCH_LENGTH = 200;
/** Cursors are job ids (`job_` and 32 hex digits), which sort by creation. */
const CURSOR = /^job_[0-9a-f]{32}$/;

builder.queryField('job', (t) =>
  t.field({
    type: Job,
    nullable: true,
    description: 'The job with this id; null when there is none the caller may see.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) =>
      findVisibleJob(context, requireScope(context, 'read'), String(args.id)),
  }),
);

builder.queryField('jobs', (t) =>
  t.field({
    type: JobConnection,
    description: 'Newest first. search matches prompt text.',
    args: {
      ...pageArgs(MAX_JOBS_PAGE_SIZE),
      status: t.arg({ type: JobStatusEnum }),
      model: t.arg({ type: ModelEnum }),
      search: t.arg.string(),
      endUserId: t.arg.string({ description: ACT_FOR_END_USER }),
    },
    resolve: async (_root, args, context) => {
      const principal = requireScope(context, 'read');
      const { first, after } = readPageArgs(args, MAX_JOBS_PAGE_SIZE, CURSOR);
      const search = args.search?.trim() || undefined;
      if (search !== undefined && search.length > MAX_SEARCH_LENGTH) {
        throw badUserInput('search', `search must be at most ${MAX_SEARCH_LENGTH} characters`);
      }
      const filter: JobFilter = {
        ...visibleJobsFilter(principal),
        status: args.status ?? undefined,
        model: args.model ?? undefined,
        search,
      };
      const page = await context.store.listJobs(filter, first, after);
      return { nodes: page.jobs, hasNextPage: page.hasNextPage, after };
    },
  }),
);

const GenerateImageInput = builder.inputType('GenerateImageInput', {
  fields: (t) => ({
    model: t.field({ type: ModelEnum, defaultValue: 'turbo' }),
    prompt: t.string({ required: true }),
    imageSize: t.field({ type: ImageSizeEnum, required: true }),
    numInferenceSteps: t.int({ description: 'Turbo: 1-50, default 8. Base: 10-100, default 28.' }),
    guidanceScale: t.float({ description: 'Base only: 1-20, default 4. Rejected for Turbo.' }),
    numImages: t.int({ description: '1-4.', defaultValue: 1 }),
    enableSafetyChecker: t.boolean({ defaultValue: true }),
    outputFormat: t.field({ type: OutputFormatEnum, defaultValue: 'png' }),
    acceleration: t.field({
      type: AccelerationEnum,
      description: 'Turbo: NONE only. Base: REGULAR (default), FAST, ULTRA_FAST.',
    }),
    idempotencyKey: t.string({
      description:
        'Same key from the same caller returns the same job instead of paying twice. ' +
        'The same key with other parameters is refused (BAD_USER_INPUT, field idempotencyKey).',
    }),
    endUserId: t.string({
      description:
        'The end user a trusted client (a bot) acts for; needs the act-as scope. Budgets and limits apply per end user.',
    }),
    webhookUrl: t.string({
      description:
        'The gateway POSTs the job here (Standard Webhooks signature) when it reaches one of webhookEvents.',
    }),
    webhookEvents: t.field({
      type: [JobStatusEnum],
      description: 'Default: the terminal statuses (COMPLETED, FAILED, ERROR, CANCELLED).',
    }),
  }),
});

builder.mutationField('generateImage', (t) =>
  t.field({
    type: Job,
    description:
      "Queues a job. Refused, before anything reaches Pixazo, past the caller's rate limit, daily budget or concurrent jobs.",
    args: { input: t.arg({ type: GenerateImageInput, required: true }) },
    resolve: (_root, { input }, context) => {
      const principal = requireScope(context, 'generate');
      return context.engine.generate(principal, {
        model: input.model ?? undefined,
        prompt: input.prompt,
        imageSize: input.imageSize,
        numInferenceSteps: input.numInferenceSteps ?? undefined,
        guidanceScale: input.guidanceScale ?? undefined,
        numImages: input.numImages ?? undefined,
        enableSafetyChecker: input.enableSafetyChecker ?? undefined,
        outputFormat: input.outputFormat ?? undefined,
        acceleration: input.acceleration ?? undefined,
        idempotencyKey: input.idempotencyKey ?? undefined,
        endUserId: principal.endUserId ?? undefined,
        webhookUrl: input.webhookUrl ?? undefined,
        webhookEvents: input.webhookEvents ?? undefined,
      });
    },
  }),
);

builder.mutationField('cancelJob', (t) =>
  t.field({
    type: Job,
    description:
      "Cancels a job of the caller that still waits in the gateway's queue (QUEUED with a queuePosition), for free; an ended job is returned as it is. Pixazo has no cancel, so a job already sent to it is paid and is not cancelled: the answer is a BAD_USER_INPUT error on `id`, and the job goes on to its end, its images kept. Decided atomically against the job's stored state, so a job sent meanwhile is never cancelled.",
    args: {
      id: t.arg.id({ required: true }),
      endUserId: t.arg.string({ description: ACT_FOR_END_USER }),
    },
    resolve: async (_root, args, context) => {
      const principal = requireScope(context, 'generate');
      const job = await getVisibleJob(context, principal, String(args.id));
      return context.engine.cancel(principal, job.id);
    },
  }),
);

/**
 * Subscriptions whose first value is the current state, so a subscriber joining one already
 * running (graphql/ws-server.ts shares them) may be handed its latest value at once.
 */
export const CURRENT_STATE_SUBSCRIPTIONS: ReadonlySet<string> = new Set(['jobUpdated']);

builder.subscriptionField('jobUpdated', (t) =>
  t.field({
    type: Job,
    description:
      "The job's current state at once, then every change; completes after a terminal state.",
    args: {
      id: t.arg.id({ required: true }),
      endUserId: t.arg.string({ description: ACT_FOR_END_USER }),
    },
    subscribe: (_root, args, context) => {
      const principal = requireScope(context, 'read');
      const id = String(args.id);
      return followJob(context.pubsub, id, () => getVisibleJob(context, principal, id));
    },
    resolve: (job) => job,
  }),
);

function changesTopic(principal: Principal): string {
  return hasScope(principal.key, 'admin') ? topics.all() : topics.owner(principal.key.id);
}

builder.subscriptionField('myJobs', (t) =>
  t.field({
    type: Job,
    description: 'Every change to any job the caller may see.',
    args: {
      endUserId: t.arg.string({ description: ACT_FOR_END_USER }),
    },
    subscribe: (_root, _args, context) => {
      const principal = requireScope(context, 'read');
      return jobChanges(
        context.pubsub,
        context.store,
        changesTopic(principal),
        visibleJobsFilter(principal),
      );
    },
    resolve: (job) => job,
  }),
);

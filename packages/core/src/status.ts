/**
 * Pixazo's status body (GET /v2/requests/status/{id} and webhook callbacks) as one zod schema,
 * read into a camelCase PixazoStatus. Validation is strict where callers depend on it (request
 * id, status, media URLs of a completed job) and lenient elsewhere (missing timestamps, a single
 * media_url string), so a harmless drift in Pixazo's answers does not break polling.
 */
import { type ModelKey, modelByPixazoId, modelOfRequestId, PixazoError } from '@zimage/pixazo-spec';
import { z } from 'zod';

export const JOB_STATUSES = ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'ERROR'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type TerminalStatus = 'COMPLETED' | 'FAILED' | 'ERROR';

export function isTerminalStatus(status: JobStatus): status is TerminalStatus {
  return status === 'COMPLETED' || status === 'FAILED' || status === 'ERROR';
}

export interface PixazoStatus {
  requestId: string;
  status: JobStatus;
  /** Pixazo's model id (`z-image-turbo-834`), or null when the body omitted it. */
  modelId: string | null;
  /** Our model key, from `model_id` or else the request id's prefix; null for unknown models. */
  model: ModelKey | null;
  /** Pixazo's error text for FAILED/ERROR, else null. */
  error: string | null;
  /** Media URLs; non-empty when status is COMPLETED, else usually empty. */
  mediaUrls: string[];
  /** Pixazo's declared MIME type (often application/octet-stream), or null. */
  mediaType: string | null;
  /** ISO timestamps as Pixazo sent them, or null when absent. */
  createdAt: string | null;
  updatedAt: string | null;
  completedAt: string | null;
}

export type CompletedStatus = PixazoStatus & { status: 'COMPLETED' };

const timestamp = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected an ISO date-time' })
  .nullish();

const mediaUrl = z.string().refine(
  (s) => {
    if (!URL.canParse(s)) return false;
    const { protocol } = new URL(s);
    return protocol === 'https:' || protocol === 'http:';
  },
  { error: 'expected an http(s) URL' },
);

const statusBodySchema = z
  .object({
    request_id: z.string().min(1),
    status: z.preprocess(
      (v) => (typeof v === 'string' ? v.toUpperCase() : v),
      z.enum(JOB_STATUSES),
    ),
    model_id: z.string().nullish(),
    error: z.string().nullish(),
    output: z
      .object({
        media_url: z.union([mediaUrl.transform((url) => [url]), z.array(mediaUrl)]).nullish(),
        media_type: z.string().nullish(),
      })
      .nullish(),
    created_at: timestamp,
    updated_at: timestamp,
    completed_at: timestamp,
  })
  .superRefine((body, ctx) => {
    if (body.status === 'COMPLETED' && !body.output?.media_url?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['output', 'media_url'],
        message: 'a COMPLETED job must list at least one media URL',
      });
    }
  });

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

/** The `request_id` of any JSON body that has one, for error reports. */
export function requestIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const id = (body as { request_id?: unknown }).request_id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/**
 * Reads a Pixazo status body — a GET answer or a webhook callback, parsed JSON or its raw text —
 * into a PixazoStatus. Throws PixazoError('INVALID_RESPONSE') naming the offending field.
 */
export function parseStatusBody(body: unknown): PixazoStatus {
  let data = body;
  if (typeof body === 'string') {
    try {
      data = JSON.parse(body);
    } catch {
      throw new PixazoError('INVALID_RESPONSE', 'Invalid Pixazo status body: not JSON');
    }
  }
  const result = statusBodySchema.safeParse(data);
  if (!result.success) {
    throw new PixazoError(
      'INVALID_RESPONSE',
      `Invalid Pixazo status body: ${describeIssues(result.error)}`,
      { requestId: requestIdOf(data) },
    );
  }
  const v = result.data;
  const model =
    (v.model_id ? modelByPixazoId(v.model_id) : undefined) ?? modelOfRequestId(v.request_id);
  return {
    requestId: v.request_id,
    status: v.status,
    modelId: v.model_id ?? null,
    model: model?.key ?? null,
    error: v.error ?? null,
    mediaUrls: v.output?.media_url ?? [],
    mediaType: v.output?.media_type ?? null,
    createdAt: v.created_at ?? null,
    updatedAt: v.updated_at ?? null,
    completedAt: v.completed_at ?? null,
  };
}

const submitBodySchema = z.object({
  request_id: z.string().min(1),
  status: z.string().optional(),
  polling_url: z.string().optional(),
});

/** Reads the generate POST's 202 body. Throws PixazoError('INVALID_RESPONSE'). */
export function parseSubmitBody(body: unknown): {
  requestId: string;
  pollingUrl: string | undefined;
} {
  const result = submitBodySchema.safeParse(body);
  if (!result.success) {
    throw new PixazoError(
      'INVALID_RESPONSE',
      `Invalid Pixazo submit answer: ${describeIssues(result.error)}`,
      { requestId: requestIdOf(body) },
    );
  }
  return { requestId: result.data.request_id, pollingUrl: result.data.polling_url };
}

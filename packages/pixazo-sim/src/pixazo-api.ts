/** Pixazo's own API: the generate POSTs and the universal status GET. */
import type { IncomingMessage } from 'node:http';
import {
  costMicroUsd,
  type ModelSpec,
  parseRequestBody,
  ValidationError,
} from '@zimage/pixazo-spec';
import type { SimContext } from './context.ts';
import { header, json, readBody, type SimResponse } from './http.ts';
import { keyFingerprint } from './ids.ts';
import { createJob, statusBody } from './jobs.ts';
import { statusPath } from './paths.ts';
import {
  badRequest,
  insufficientBalance,
  invalidKey,
  missingKey,
  modelNotFound,
  payloadTooLarge,
  rateLimited,
  requestNotFound,
} from './responses.ts';

export const KEY_HEADER = 'Ocp-Apim-Subscription-Key';
export const WEBHOOK_HEADER = 'X-Webhook-URL';
/** Generate bodies are a prompt (≤ 4000 characters) and a few options: 64 KiB is ample. */
export const MAX_BODY_BYTES = 64 * 1024;

interface Caller {
  key: string;
  keyId: string;
}

/** The API gateway's checks, in its order: a known key, then the key's request rate. */
function authorize(ctx: SimContext, req: IncomingMessage, now: number): Caller | SimResponse {
  const key = header(req, KEY_HEADER);
  if (!key) return missingKey();
  if (!ctx.wallet.has(key)) return invalidKey();
  const keyId = keyFingerprint(key);
  const waitMs = ctx.rateLimiter.take(keyId, now);
  if (waitMs > 0) return rateLimited(Math.max(1, Math.ceil(waitMs / 1000)));
  return { key, keyId };
}

/**
 * POST /{modelId}/v1/{model}-request. `model` is undefined when the path names no known model.
 */
export async function handleSubmit(
  ctx: SimContext,
  req: IncomingMessage,
  pathModelId: string,
  model: ModelSpec | undefined,
): Promise<SimResponse> {
  const caller = authorize(ctx, req, Date.now());
  if (!('keyId' in caller)) return caller;
  if (!model) return modelNotFound(pathModelId);

  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === null) return payloadTooLarge(MAX_BODY_BYTES);
  const body = parseJsonObject(raw);
  if (body === undefined) return badRequest('body', 'The request body must be a JSON object');
  let params: ReturnType<typeof parseRequestBody>;
  try {
    params = parseRequestBody(model.key, body);
  } catch (error) {
    if (error instanceof ValidationError) return badRequest(error.field, error.message);
    throw error;
  }
  const webhookUrl = header(req, WEBHOOK_HEADER) ?? null;
  if (webhookUrl !== null && !isHttpUrl(webhookUrl)) {
    return badRequest(WEBHOOK_HEADER, `${WEBHOOK_HEADER} must be an absolute http(s) URL`);
  }

  const now = Date.now();
  const cost = costMicroUsd(model, params.numImages);
  if (!ctx.wallet.charge(caller.key, cost, now)) return insufficientBalance();
  const fate = ctx.faults.decideJobFate(params.prompt, webhookUrl !== null);
  const job = createJob({
    model,
    params,
    ownerKeyId: caller.keyId,
    costMicroUsd: cost,
    outcome: fate.outcome,
    vanished: fate.vanished,
    now,
    timeScale: ctx.timeScale,
    jitter: ctx.timingRandom(),
  });
  ctx.jobs.add(job, now);
  if (job.outcome === 'ERROR') ctx.wallet.refundAt(caller.key, cost, job.endsAt);
  if (webhookUrl !== null && fate.webhook !== null) {
    ctx.webhooks.schedule(job, webhookUrl, fate.webhook, ctx.baseUrl);
  }
  return json(202, {
    request_id: job.id,
    status: 'QUEUED',
    polling_url: `${ctx.baseUrl}${statusPath(job.id)}`,
  });
}

/** GET /v2/requests/status/{requestId}: only the key that submitted a job can see it. */
export function handleStatus(
  ctx: SimContext,
  req: IncomingMessage,
  requestId: string,
): SimResponse {
  const now = Date.now();
  const caller = authorize(ctx, req, now);
  if (!('keyId' in caller)) return caller;
  const job = ctx.jobs.get(requestId, now);
  if (!job || job.vanished || job.ownerKeyId !== caller.keyId) return requestNotFound(requestId);
  return json(200, statusBody(job, now, ctx.baseUrl));
}

function parseJsonObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The simulator's own control surface under `/_sim/`, for tests that run it in another
 * process: inspect received requests and webhook deliveries, inject faults, read or set
 * balances, reset.
 */
import type { IncomingMessage } from 'node:http';
import { microUsdToUsd } from '@zimage/pixazo-spec';
import type { SimContext } from './context.ts';
import type { FaultsUpdate } from './faults.ts';
import { header, json, readBody, type SimResponse } from './http.ts';
import { type JobStatus, jobSummary } from './jobs.ts';
import { CONTROL_PATH_PREFIX, decodeSegment } from './paths.ts';
import { KEY_HEADER, MAX_BODY_BYTES } from './pixazo-api.ts';
import type { RequestFilter, RouteKind } from './request-log.ts';
import type { WebhookDeliveryFilter } from './webhooks.ts';

const ROUTE_KINDS: readonly RouteKind[] = ['submit', 'status', 'media', 'unknown'];
const JOB_STATUSES: readonly JobStatus[] = ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'ERROR'];

class ControlError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function handleControl(
  ctx: SimContext,
  req: IncomingMessage,
  url: URL,
): Promise<SimResponse> {
  try {
    return await route(ctx, req, url);
  } catch (error) {
    if (!(error instanceof ControlError)) throw error;
    const title = error.status === 404 ? 'Not Found' : 'Bad Request';
    return json(error.status, { error: title, message: error.message });
  }
}

async function route(ctx: SimContext, req: IncomingMessage, url: URL): Promise<SimResponse> {
  const path = url.pathname.slice(CONTROL_PATH_PREFIX.length);
  const now = Date.now();
  switch (`${req.method} ${path}`) {
    case 'GET health':
      return json(200, { ok: true, jobs: ctx.jobs.size });
    case 'GET requests': {
      const requests = ctx.log.entries(requestFilter(url.searchParams));
      return json(200, { count: requests.length, requests });
    }
    case 'DELETE requests':
      ctx.log.clear();
      return json(200, { ok: true });
    case 'GET webhooks': {
      const deliveries = ctx.webhooks.deliveries(deliveryFilter(url.searchParams));
      return json(200, { count: deliveries.length, deliveries });
    }
    case 'DELETE webhooks':
      ctx.webhooks.clearLog();
      return json(200, { ok: true });
    case 'GET faults':
      return json(200, ctx.faults.snapshot());
    case 'PUT faults':
      try {
        // Faults.set validates: untrusted JSON is fine here.
        ctx.faults.set((await readJson(req)) as FaultsUpdate);
      } catch (error) {
        if (error instanceof ControlError) throw error;
        throw new ControlError(400, (error as Error).message);
      }
      return json(200, ctx.faults.snapshot());
    case 'DELETE faults':
      ctx.faults.reset();
      return json(200, ctx.faults.snapshot());
    case 'GET jobs':
      return json(200, { jobs: ctx.jobs.list(now).map((job) => jobSummary(job, now)) });
    case 'GET balance': {
      const balance = ctx.wallet.balance(callerKey(req), now);
      if (balance === undefined) throw new ControlError(404, 'Unknown subscription key');
      return json(200, { balance_usd: microUsdToUsd(balance) });
    }
    case 'PUT balance': {
      const key = callerKey(req);
      const body = await readJson(req);
      const usd = (body as { balance_usd?: unknown } | null)?.balance_usd;
      if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) {
        throw new ControlError(400, 'balance_usd must be a number ≥ 0');
      }
      ctx.wallet.set(key, usd);
      return json(200, { balance_usd: usd });
    }
    case 'POST reset':
      ctx.reset();
      return json(200, { ok: true });
  }
  const jobSegment = req.method === 'GET' ? /^jobs\/([^/]+)$/.exec(path)?.[1] : undefined;
  if (jobSegment !== undefined) {
    const id = decodeSegment(jobSegment) ?? jobSegment;
    const job = ctx.jobs.get(id, now);
    if (!job) throw new ControlError(404, `Request '${id}' not found`);
    return json(200, jobSummary(job, now));
  }
  throw new ControlError(404, `No control endpoint ${req.method} ${url.pathname}`);
}

function callerKey(req: IncomingMessage): string {
  const key = header(req, KEY_HEADER);
  if (!key) throw new ControlError(400, `The ${KEY_HEADER} header names the key`);
  return key;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === null) throw new ControlError(400, 'The body is too large');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ControlError(400, 'The body must be JSON');
  }
}

function requestFilter(query: URLSearchParams): RequestFilter {
  const filter: RequestFilter = {};
  for (const [name, value] of query) {
    if (name === 'method') filter.method = value.toUpperCase();
    else if (name === 'path') filter.path = value;
    else if (name === 'key_id') filter.keyId = value;
    else if (name === 'status') filter.status = Number(value);
    else if (name === 'route' && (ROUTE_KINDS as readonly string[]).includes(value)) {
      filter.route = value as RouteKind;
    } else throw new ControlError(400, `Unknown or invalid filter ${name}=${value}`);
  }
  return filter;
}

function deliveryFilter(query: URLSearchParams): WebhookDeliveryFilter {
  const filter: WebhookDeliveryFilter = {};
  for (const [name, value] of query) {
    if (name === 'request_id') filter.requestId = value;
    else if (name === 'status') filter.status = Number(value);
    else if (name === 'attempt') filter.attempt = Number(value);
    else if (name === 'job_status' && (JOB_STATUSES as readonly string[]).includes(value)) {
      filter.jobStatus = value as JobStatus;
    } else throw new ControlError(400, `Unknown or invalid filter ${name}=${value}`);
  }
  return filter;
}

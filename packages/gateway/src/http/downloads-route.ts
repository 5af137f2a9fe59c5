/**
 * Zip downloads of stored images:
 * - `POST /downloads` with the API key (`Authorization: Bearer …`, as for GraphQL) and a JSON
 *   body naming one job (`{"jobId": "job_…"}`) or a filter of the `jobs` query (`status`,
 *   `model`, `search`, `first` ≤ 100, `endUserId` with act-as) answers
 *   `{"url", "expiresAt"}`: a signed link valid for 5 minutes (download-token.ts).
 * - `GET /downloads/<token>` streams the zip, no header needed (a browser's plain link), every
 *   stored image of the jobs the key may see, named `<prompt>_<job id>_<n>.<ext>`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JOB_STATUSES } from '@zimage/contract';
import { MODEL_LIST } from '@zimage/core';
import { actAs, authenticate, type KeyCache } from '../auth/authenticate.ts';
import type { JobRecord } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import { hasScope, type Principal } from '../domain/principal.ts';
import { GatewayError } from '../errors.ts';
import type { ImageStore } from '../images/image-store.ts';
import { canAccessJob } from '../jobs/job-access.ts';
import { visibleJobsFilter } from '../schema/access.ts';
import { MAX_JOBS_PAGE_SIZE, type Store } from '../store/store.ts';
import type { DownloadSpec, DownloadTokens } from './download-token.ts';
import { methodNotAllowed, sendJson, sendText } from './respond.ts';
import { type ZipEntry, zipStream } from './zip-stream.ts';

export const DOWNLOADS_PATH = '/downloads';
const MAX_BODY_BYTES = 4096;
const MAX_SEARCH_LENGTH = 200;
const MODEL_BY_ENUM = new Map(MODEL_LIST.map((s) => [`Z_IMAGE_${s.key.toUpperCase()}`, s.key]));
const STATUSES: ReadonlySet<string> = new Set(JOB_STATUSES);

export interface DownloadsRouteDeps {
  store: Store;
  images: ImageStore;
  tokens: DownloadTokens;
  keyCache: KeyCache;
  logger: Logger;
  /** Where the link points: PUBLIC_URL or the listen address. */
  publicUrl: () => string | null;
  now?: () => Date;
}

/** `a-red-fox-in-snow`: the prompt as a file name, ASCII, at most 40 characters. */
export function promptSlug(prompt: string): string {
  const slug = prompt
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  return slug || 'image';
}

export function imageFileName(job: JobRecord, index: number): string {
  const extension = job.images[index]?.fileName.split('.').pop() ?? 'png';
  return `${promptSlug(job.prompt)}_${job.id}_${index + 1}.${extension}`;
}

function refuse(res: ServerResponse, error: GatewayError) {
  const status = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 }[error.code as string];
  sendJson(res, status ?? 400, { error: { message: error.message, ...error.extensions } });
}

const needsRead = () => new GatewayError('FORBIDDEN', 'Downloads need the read scope');

const invalid = (field: string, message: string) =>
  new GatewayError('BAD_USER_INPUT', message, { field });

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_BODY_BYTES) throw invalid('body', `At most ${MAX_BODY_BYTES} bytes`);
  }
  try {
    const body = JSON.parse(text || '{}') as unknown;
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      return body as Record<string, unknown>;
    }
  } catch {
    // answered below
  }
  throw invalid('body', 'The body must be a JSON object');
}

/** The spec a request asks for, checked field by field. */
function specOf(principal: Principal, body: Record<string, unknown>): DownloadSpec {
  const known = new Set(['jobId', 'status', 'model', 'search', 'first', 'endUserId']);
  for (const field of Object.keys(body)) {
    if (!known.has(field)) throw invalid(field, `Unknown field ${field}`);
  }
  const text = (field: string, max: number) => {
    const value = body[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length > max) {
      throw invalid(field, `${field} must be a string of at most ${max} characters`);
    }
    return value;
  };
  const acting = actAs(principal, text('endUserId', 128));
  const spec: DownloadSpec = { keyId: acting.key.id, endUserId: acting.endUserId };
  const jobId = text('jobId', 80);
  if (jobId !== undefined) {
    if (Object.keys(body).some((f) => f !== 'jobId' && f !== 'endUserId')) {
      throw invalid('jobId', 'jobId downloads one job: give it alone, or a filter instead');
    }
    return { ...spec, jobId };
  }
  const status = text('status', 20);
  if (status !== undefined && !STATUSES.has(status)) {
    throw invalid('status', `status must be one of ${JOB_STATUSES.join(', ')}`);
  }
  const model = text('model', 40);
  if (model !== undefined && !MODEL_BY_ENUM.has(model)) {
    throw invalid('model', `model must be one of ${[...MODEL_BY_ENUM.keys()].join(', ')}`);
  }
  const first = body.first ?? 20;
  if (!Number.isInteger(first) || (first as number) < 1 || (first as number) > MAX_JOBS_PAGE_SIZE) {
    throw invalid('first', `first must be from 1 to ${MAX_JOBS_PAGE_SIZE}`);
  }
  return {
    ...spec,
    status: status as DownloadSpec['status'],
    model: model === undefined ? undefined : (MODEL_BY_ENUM.get(model) as string),
    search: text('search', MAX_SEARCH_LENGTH)?.trim() || undefined,
    first: first as number,
  };
}

export function createDownloadsRoute(deps: DownloadsRouteDeps) {
  const { store, images, tokens, logger } = deps;
  const now = deps.now ?? (() => new Date());

  async function create(req: IncomingMessage, res: ServerResponse) {
    const principal = await authenticate(store, req.headers.authorization, deps.keyCache);
    if (principal === null) throw new GatewayError('UNAUTHENTICATED', 'An API key is required');
    if (!hasScope(principal.key, 'read')) throw needsRead();
    const spec = specOf(principal, await readBody(req));
    const { token, expiresAt } = tokens.issue(spec, now());
    const origin = deps.publicUrl() ?? '';
    sendJson(res, 201, {
      url: `${origin}${DOWNLOADS_PATH}/${token}`,
      expiresAt: expiresAt.toISOString(),
    });
  }

  /** The jobs a token names, as its key sees them now. */
  async function jobsOf(spec: DownloadSpec): Promise<JobRecord[]> {
    const key = await store.getApiKey(spec.keyId);
    if (key === null || key.revokedAt !== null) {
      throw new GatewayError('UNAUTHENTICATED', 'The API key of this link was revoked');
    }
    if (!hasScope(key, 'read')) throw needsRead();
    const principal: Principal = { key, endUserId: spec.endUserId };
    if (spec.jobId !== undefined) {
      const job = await store.getJob(spec.jobId);
      if (job === null || !canAccessJob(principal, job)) {
        throw new GatewayError('NOT_FOUND', `No job ${spec.jobId}`);
      }
      return [job];
    }
    const filter = {
      ...visibleJobsFilter(principal),
      status: spec.status,
      model: spec.model as JobRecord['model'] | undefined,
      search: spec.search,
    };
    return (await store.listJobs(filter, spec.first ?? 20)).jobs;
  }

  async function* entries(jobs: JobRecord[]): AsyncGenerator<ZipEntry> {
    for (const job of jobs) {
      for (const [index, image] of job.images.entries()) {
        const stream = await images.read(job.id, image.fileName);
        if (stream === null) continue; // deleted by retention meanwhile
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        yield {
          name: imageFileName(job, index),
          data: Buffer.concat(chunks),
          modified: job.completedAt ?? job.updatedAt,
        };
      }
    }
  }

  async function download(res: ServerResponse, token: string) {
    const spec = tokens.verify(token, now());
    if (spec === null) {
      return sendText(res, 404, 'Not Found: this download link is invalid or has expired\n');
    }
    const jobs = await jobsOf(spec);
    const name =
      spec.jobId !== undefined
        ? `${promptSlug(jobs[0]?.prompt ?? '')}_${spec.jobId}`
        : 'zimage-jobs';
    res.writeHead(200, {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="${name}.zip"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    });
    try {
      await pipeline(Readable.from(zipStream(entries(jobs))), res);
    } catch (error) {
      // Headers are gone: the client sees a cut archive, which no unzip accepts.
      logger.warn({ err: error }, 'zip download failed');
      res.destroy();
    }
  }

  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    try {
      if (pathname === DOWNLOADS_PATH) {
        if (req.method !== 'POST') return methodNotAllowed(res, ['POST']);
        return await create(req, res);
      }
      const token = pathname.slice(DOWNLOADS_PATH.length + 1);
      if (token.includes('/')) return sendText(res, 404, 'Not Found\n');
      if (req.method !== 'GET') return methodNotAllowed(res, ['GET']);
      return await download(res, token);
    } catch (error) {
      if (error instanceof GatewayError && !res.headersSent) return refuse(res, error);
      throw error;
    }
  };
}

/**
 * Routing. Every non-control request is logged and may meet a request fault: 429 or 500
 * instead of its handler, or a late or dropped answer after it. Handlers return answers as
 * values, so that a fault can delay or discard one after the work (an accepted job) is done.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { MODEL_LIST, type ModelSpec } from '@zimage/pixazo-spec';
import { handleMedia } from './cdn.ts';
import type { SimContext } from './context.ts';
import { handleControl } from './control.ts';
import { header, RequestAbortedError, type SimResponse, send } from './http.ts';
import { keyFingerprint } from './ids.ts';
import {
  CONTROL_PATH_PREFIX,
  decodeSegment,
  type MediaRef,
  parseMediaPath,
  parseStatusPath,
} from './paths.ts';
import { handleStatus, handleSubmit, KEY_HEADER } from './pixazo-api.ts';
import { internalError, rateLimited, resourceNotFound } from './responses.ts';

type Route =
  | { kind: 'submit'; pathModelId: string; model: ModelSpec | undefined }
  | { kind: 'status'; requestId: string }
  | { kind: 'media'; ref: MediaRef }
  | { kind: 'control' }
  | { kind: 'unknown' };

const SUBMIT_PATH = /^\/([^/]+)\/v1\/[^/]+$/;

function matchRoute(method: string, pathname: string, controlEnabled: boolean): Route {
  if (pathname.startsWith(CONTROL_PATH_PREFIX)) {
    return controlEnabled ? { kind: 'control' } : { kind: 'unknown' };
  }
  if (method === 'POST') {
    const segment = SUBMIT_PATH.exec(pathname)?.[1];
    const pathModelId = segment === undefined ? null : decodeSegment(segment);
    if (pathModelId === null) return { kind: 'unknown' };
    const model = MODEL_LIST.find((m) => m.requestPath === pathname);
    return { kind: 'submit', pathModelId, model };
  }
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'unknown' };
  const requestId = method === 'GET' ? parseStatusPath(pathname) : null;
  if (requestId !== null) return { kind: 'status', requestId };
  const ref = parseMediaPath(pathname);
  return ref ? { kind: 'media', ref } : { kind: 'unknown' };
}

export function createRequestHandler(ctx: SimContext, options: { controlEndpoints: boolean }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(ctx, options.controlEndpoints, req, res).catch((error: unknown) => {
      if (error instanceof RequestAbortedError) return;
      console.error('pixazo-sim: unexpected error:', error);
      if (!res.headersSent && !res.destroyed) send(res, internalError());
    });
  };
}

async function handle(
  ctx: SimContext,
  controlEnabled: boolean,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://pixazo-sim');
  const method = req.method ?? 'GET';
  const route = matchRoute(method, url.pathname, controlEnabled);
  if (route.kind === 'control') {
    send(res, await handleControl(ctx, req, url));
    return;
  }

  const key = header(req, KEY_HEADER);
  const entry = ctx.log.record({
    at: new Date().toISOString(),
    method,
    path: url.pathname,
    route: route.kind,
    keyId: key ? keyFingerprint(key) : null,
    status: null,
    dropped: false,
  });
  const faultable = route.kind !== 'unknown';
  const { faults } = ctx;
  const slow = faultable && faults.firesOn('slow', route.kind);
  const drop = faultable && faults.firesOn('drop', route.kind);
  const response = await answer(ctx, req, route);
  // The work is done before the delay, as on a congested server: a client that gives up
  // waiting cannot tell whether its job was accepted.
  if (slow) await sleep(faults.get('slow')?.delayMs ?? 1000, undefined, { ref: false });
  if (drop) {
    entry.dropped = true;
    res.socket?.destroy();
    return;
  }
  entry.status = response.status;
  send(res, response);
}

async function answer(
  ctx: SimContext,
  req: IncomingMessage,
  route: Exclude<Route, { kind: 'control' }>,
): Promise<SimResponse> {
  if (route.kind === 'unknown') return resourceNotFound();
  const { faults } = ctx;
  if (faults.firesOn('rateLimit', route.kind)) {
    return rateLimited(faults.get('rateLimit')?.retryAfterSeconds ?? 1);
  }
  if (faults.firesOn('serverError', route.kind)) {
    return internalError('The server encountered an internal error (simulated fault)');
  }
  switch (route.kind) {
    case 'submit':
      return handleSubmit(ctx, req, route.pathModelId, route.model);
    case 'status':
      return handleStatus(ctx, req, route.requestId);
    case 'media':
      return handleMedia(ctx, route.ref);
  }
}

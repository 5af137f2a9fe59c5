/**
 * POST /webhooks/pixazo/<jobId>/<token>: Pixazo's callback when a job ends. The body is read
 * up to a bound and handed to the engine, which checks the token and confirms the status
 * with Pixazo before using it; its answer's status goes back to Pixazo (non-2xx makes it retry).
 * An unknown job and a wrong token get the same 404, so the route tells strangers nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../domain/logger.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { WEBHOOK_PATH_PREFIX } from '../jobs/webhook-token.ts';
import type { Metrics } from '../metrics.ts';
import { methodNotAllowed, sendJson } from './respond.ts';

export const WEBHOOK_PREFIX = `${WEBHOOK_PATH_PREFIX}/`;

/** A status body is well under 10 KB; four media URLs included. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parsed JSON, or the raw text, which the engine rejects with its own reason. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function createWebhookRoute(deps: { engine: JobEngine; metrics: Metrics; logger: Logger }) {
  const { engine, metrics, logger } = deps;
  const answer = (res: ServerResponse, status: number) => {
    metrics.webhookAnswered(status);
    sendJson(res, status, { ok: status < 300 });
  };

  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'POST') return methodNotAllowed(res, ['POST']);
    const [jobId, token, ...rest] = pathname.slice(WEBHOOK_PREFIX.length).split('/');
    if (!jobId || !token || rest.length > 0) return answer(res, 404);
    let body: string;
    try {
      body = await readBody(req, MAX_WEBHOOK_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      // Stop reading what is left of an oversized body: answer and close.
      res.setHeader('connection', 'close');
      return answer(res, 413);
    }
    const outcome = await engine.handleWebhook(jobId, token, parsed(body));
    logger.info({ jobId, status: outcome.status }, 'pixazo webhook');
    answer(res, outcome.status);
  };
}

/**
 * /healthz: the process answers (liveness). /readyz: it should get traffic: the store answers
 * and the gateway is not shutting down (readiness, for load balancers and orchestrators).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../store/store.ts';
import { sendJson } from './respond.ts';

export function healthz(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

export function createReadyz(deps: { store: Store; isShuttingDown: () => boolean }) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (deps.isShuttingDown()) return sendJson(res, 503, { status: 'shutting down' });
    const storeUp = await deps.store.ping().catch(() => false);
    sendJson(res, storeUp ? 200 : 503, { status: storeUp ? 'ready' : 'store unavailable' });
  };
}

/**
 * /healthz: the process answers (liveness). /readyz: it should get traffic: the store answers,
 * Redis too when the instance is scaled out, and the gateway is not shutting down (readiness,
 * for load balancers and orchestrators). A 503 names what is down.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './respond.ts';

export function healthz(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

interface Pingable {
  ping(): Promise<boolean>;
}

export function createReadyz(deps: {
  store: Pingable;
  /** Null: a single instance without Redis. */
  redis: Pingable | null;
  isShuttingDown: () => boolean;
}) {
  const answers = (dependency: Pingable | null) =>
    dependency === null ? Promise.resolve(true) : dependency.ping().catch(() => false);
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (deps.isShuttingDown()) return sendJson(res, 503, { status: 'shutting down' });
    const [storeUp, redisUp] = await Promise.all([answers(deps.store), answers(deps.redis)]);
    const down = [...(storeUp ? [] : ['database']), ...(redisUp ? [] : ['redis'])];
    if (down.length === 0) return sendJson(res, 200, { status: 'ready' });
    sendJson(res, 503, { status: `${down.join(' and ')} unavailable`, down });
  };
}

/** GET /metrics: Prometheus text exposition of the gateway's registry. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../metrics.ts';
import { methodNotAllowed, sendText } from './respond.ts';

export function createMetricsRoute(metrics: Metrics) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') return methodNotAllowed(res, ['GET']);
    sendText(res, 200, await metrics.render(), { 'content-type': metrics.registry.contentType });
  };
}

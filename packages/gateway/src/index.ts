/**
 * @zimage/gateway as a library: start a whole gateway in-process (tests, benchmarks, embedding),
 * or build its parts.
 */

export { type CreatedApiKey, createApiKey, type NewApiKey } from './auth/api-keys.ts';
export type { Logger } from './domain/logger.ts';
export type { ApiKeyRecord, Limits, Principal, Scope } from './domain/principal.ts';
export { type RunningGateway, type StartGatewayOptions, startGateway } from './gateway.ts';
export { CSRF_HEADER, GRAPHQL_LIMITS, GRAPHQL_PATH } from './graphql/yoga.ts';
export { createLogger } from './logger.ts';
export { createMetrics, type Metrics, type UpdateSource } from './metrics.ts';
export { modelsAnswer } from './models-answer.ts';
export type { GatewayContext } from './schema/builder.ts';
export { printedSchema, schema } from './schema/schema.ts';
export {
  createGatewayServer,
  DEFAULT_DASHBOARD_DIR,
  type GatewayServer,
  type GatewayServerDeps,
} from './server.ts';

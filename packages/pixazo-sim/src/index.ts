/**
 * @zimage/pixazo-sim: a faithful local Pixazo Z-Image server, for development and tests.
 * See README.md for the routes, the fault injection and the `/_sim/` control surface.
 */

export type {
  FaultName,
  FaultRoute,
  FaultsUpdate,
  FaultTrigger,
  RequestFaultTrigger,
  SimFaults,
} from './faults.ts';
export { keyFingerprint } from './ids.ts';
/** The files the simulated CDN serves, for tests that need them without a server. */
export { type ImageSpec, renderImage } from './images.ts';
export type { JobStatus, JobSummary, StatusBody } from './jobs.ts';
export type { Random } from './random.ts';
export { seededRandom } from './random.ts';
export type { RateLimit } from './rate-limit.ts';
export type { RequestFilter, RequestLogEntry, RouteKind } from './request-log.ts';
export type { PixazoSim, PixazoSimOptions } from './sim.ts';
export { startPixazoSim } from './sim.ts';
export type { WebhookDelivery, WebhookDeliveryFilter } from './webhooks.ts';

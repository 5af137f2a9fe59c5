/**
 * What the GraphQL layer and the HTTP routes need from the job engine. The engine owns the
 * lifecycle: validate → admit (limits, budget, idempotency) → persist QUEUED → the gateway's
 * own queue (a concurrency cap toward Pixazo, claimed across instances) → submit exactly once → track (webhook or
 * polling, one tracker per job) → store images → persist → publish.
 */
import type { GenerateInput } from '@zimage/core';
import type { JobRecord } from '../domain/job.ts';
import type { Principal } from '../domain/principal.ts';

export interface GenerateRequest extends GenerateInput {
  idempotencyKey?: string | undefined;
  endUserId?: string | undefined;
}

export interface WebhookOutcome {
  /** HTTP status to answer Pixazo with. */
  status: number;
}

export interface JobEngine {
  /** MAX_PROMPT_LENGTH: the longest prompt `generate` accepts, in characters. */
  readonly maxPromptLength: number;
  /**
   * Throws GatewayError (BAD_USER_INPUT with field, FORBIDDEN, BUDGET_EXCEEDED, …), and
   * INSUFFICIENT_BALANCE or UPSTREAM_UNAVAILABLE while Pixazo is known to refuse work.
   */
  generate(principal: Principal, request: GenerateRequest): Promise<JobRecord>;
  /** Owner (or admin) only; before submission it costs nothing, after it only tracking stops. */
  cancel(principal: Principal, jobId: string): Promise<JobRecord>;
  /** 1-based position in the gateway's own queue (across every instance) while pending. */
  queuePosition(jobId: string): Promise<number | null>;
  /** Another instance made work dispatchable it will not claim: claim what the cap allows. */
  nudge(): void;
  /** This engine run's id in the store's instances table (job ownership, heartbeats). */
  readonly instanceId: string;
  /** A Pixazo callback to /webhooks/pixazo/<jobId>/<token>; confirmed by one status GET before use. */
  handleWebhook(jobId: string, token: string, body: unknown): Promise<WebhookOutcome>;
  /** Adopts the jobs stopped instances left, starts heartbeats and dispatch. */
  start(): Promise<void>;
  /** Stops taking work, lets in-flight submits finish, stops trackers. */
  stop(): Promise<void>;
}

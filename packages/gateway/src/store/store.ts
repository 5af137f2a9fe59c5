/**
 * Persistence behind one interface: node:sqlite is the embedded default (sqlite.ts), PostgreSQL
 * the scale-out adapter (postgres.ts). Both run the same scenario suite (test/store.suite.ts).
 * Every method is async so that a networked adapter fits; anything that must be atomic
 * (admission of a job against budgets and concurrency, compare-and-set updates) is ONE method.
 */

import type { ModelKey } from '@zimage/core';
import type { AdmissionRequest, AdmissionResult, Owner, Usage } from '../domain/admission.ts';
import type { AuditDraft, AuditRecord } from '../domain/audit.ts';
import type { JobRecord, JobStatus } from '../domain/job.ts';
import type { LimitsPatch } from '../domain/key-limits.ts';
import type { ApiKeyRecord } from '../domain/principal.ts';
import type { UpstreamCondition } from '../domain/upstream.ts';
import type { WebhookAttempt, WebhookDelivery } from '../domain/webhook.ts';

export type JobPatch = Partial<
  Pick<
    JobRecord,
    | 'status'
    | 'submission'
    | 'requestId'
    | 'webhookTokenHash'
    | 'error'
    | 'costMicroUsd'
    | 'images'
    | 'startedAt'
    | 'completedAt'
  >
>;

export interface JobFilter {
  /** null/undefined: every owner (admin). */
  ownerKeyId?: string | undefined;
  endUserId?: string | undefined;
  status?: JobStatus | undefined;
  model?: ModelKey | undefined;
  /** Case-insensitive substring of the prompt. */
  search?: string | undefined;
}

/** Most jobs one `listJobs` call returns, whatever `first` asks for. */
export const MAX_JOBS_PAGE_SIZE = 100;

export interface JobPage {
  /** Newest first. */
  jobs: JobRecord[];
  hasNextPage: boolean;
}

/** A dispatcher's claim on the oldest pending jobs (Store.claimPendingJobs). */
export interface DispatchClaim {
  /** The claiming gateway instance: it sends the claimed jobs and tracks them. */
  instanceId: string;
  /** Jobs at Pixazo at once (submitting or submitted, not ended), across every instance. */
  maxInFlight: number;
  /** Claim at most this many now (1 for the upstream probe). */
  limit: number;
}

/** A live instance taking over the jobs of instances whose heartbeat went stale. */
export interface Adoption {
  instanceId: string;
  /** A submitted job's owner is dead once its last heartbeat is this old (0: any other). */
  staleAfterMs: number;
  /**
   * The same for a job still 'submitting': also longer than its POST can take, so that a POST
   * of a slow but live instance is never taken for a dead one.
   */
  submittingStaleAfterMs: number;
}

/** What every instance knows about Pixazo refusing work (jobs/upstream-health.ts), shared. */
export interface UpstreamRecord {
  condition: UpstreamCondition;
  /** When the condition was first seen (renewals keep it). */
  since: Date;
  /** When its cooldown ends; from then one probe may be sent. */
  until: Date;
  /** The instance whose job is the probe, while it is out. */
  probeBy: string | null;
}

/** A webhook worker's claim on due outbox deliveries (Store.claimWebhookDeliveries). */
export interface WebhookClaim {
  instanceId: string;
  /** Now, on the worker's clock: deliveries due by then whose lease ended are taken. */
  at: Date;
  /** The claimed deliveries are held until then; past it another worker may take them. */
  leaseUntil: Date;
  limit: number;
  /** At most this many deliveries of one receiver URL held at once, across every worker. */
  perReceiver: number;
}

/** The outcome of one attempt at a delivery (Store.recordWebhookAttempt). */
export interface WebhookAttemptResult {
  deliveryId: string;
  /** The worker that holds the lease; another's result is dropped. */
  instanceId: string;
  at: Date;
  statusCode: number | null;
  error: string | null;
  /** The next try; null once delivered or given up. */
  nextAttemptAt: Date | null;
}

/** How many rows a page of `first` holds: `first` (whole) within 0…max. */
export const pageSize = (first: number, max: number): number =>
  Math.max(0, Math.min(Math.floor(first), max));

/** Most keys one `listApiKeyPage` call returns, and audit entries one `listAuditLog` call. */
export const MAX_ADMIN_PAGE_SIZE = 100;

export interface ApiKeyPage {
  /** Newest first. */
  keys: ApiKeyRecord[];
  hasNextPage: boolean;
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditRecord[];
  hasNextPage: boolean;
}

/** A key's spending in micro-USD, refunds included. */
export interface KeySpending {
  /** On the given UTC day. */
  todayMicroUsd: number;
  /** From the first day of that day's UTC month up to it. */
  thisMonthMicroUsd: number;
}

/** What a usage report groups charged jobs by. */
export const USAGE_GROUPS = ['day', 'model', 'apiKey', 'endUser'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  /** First and last UTC day ("YYYY-MM-DD"), both included. */
  from: string;
  to: string;
  groupBy: readonly UsageGroup[];
  /** Most rows returned; a store returns one more when there are more (the caller refuses). */
  maxRows: number;
}

/** One group; the fields not grouped by are null (endUserId is also null for a key's own jobs). */
export interface UsageReportRow {
  day: string | null;
  model: ModelKey | null;
  keyId: string | null;
  endUserId: string | null;
  /** Jobs whose net charge in the period is positive, and their images. */
  jobs: number;
  images: number;
  /** Charges less refunds. */
  microUsd: number;
}

/** What every store takes besides where its database is. */
export interface StoreOptions {
  /** The clock of ledger rows, `updatedAt` and revocations; default the real time. */
  now?: (() => Date) | undefined;
}

export interface Store {
  /**
   * True when one gateway process at a time uses the database (SQLite): any other instance on
   * record is an earlier run of this one, so a start adopts its jobs at once.
   */
  readonly singleProcess: boolean;
  /**
   * True when a write is done as soon as it is called and joins the other writes of this turn
   * of the event loop in one commit (SQLite, sqlite-group-commit.ts): a claim made right after
   * an admission then sees the job and shares its commit. False for PostgreSQL, whose writes
   * are grouped too (postgres-group-commit.ts) but run only once their turn has ended.
   */
  readonly groupCommit: boolean;
  /**
   * Atomically: read the facts `decideAdmission` (domain/admission.ts) needs (the job of a
   * repeated idempotency key, the usage of the key and of the end user), and insert the job and
   * its ledger charge when it decides `created`. Two concurrent admissions can never both
   * squeeze under a limit.
   */
  admitJob(request: AdmissionRequest): Promise<AdmissionResult>;
  getJob(id: string): Promise<JobRecord | null>;
  /**
   * The job an earlier request of `owner` (the key, and the end user or none) created with
   * `idempotencyKey`, or null; the same match as admitJob's.
   */
  findJobByIdempotencyKey(owner: Owner, idempotencyKey: string): Promise<JobRecord | null>;
  /**
   * Compare-and-set on `version`: applies the patch and bumps the version only if the stored
   * version equals `expectedVersion`; returns null otherwise (someone else changed it first).
   * Lowering `costMicroUsd` writes a refund to the ledger in the same transaction.
   */
  updateJob(id: string, expectedVersion: number, patch: JobPatch): Promise<JobRecord | null>;
  /**
   * Newest first; `after` is a job id from an earlier page (ids sort by creation). `first` is
   * capped at MAX_JOBS_PAGE_SIZE.
   */
  listJobs(filter: JobFilter, first: number, after?: string): Promise<JobPage>;
  /**
   * The jobs `filter` matches whose `updatedAt` is at or after `since`, least recently updated
   * first (ties by id), for a subscription catching up after a gap. `after` is the last job of
   * an earlier page. `first` is capped at MAX_JOBS_PAGE_SIZE.
   */
  listJobsUpdatedSince(
    filter: JobFilter,
    since: Date,
    first: number,
    after?: Pick<JobRecord, 'id' | 'updatedAt'>,
  ): Promise<JobPage>;
  /** How many jobs wait in the gateway's own queue (submission 'pending'). */
  countPendingJobs(): Promise<number>;
  /** The first `limit` jobs of the gateway's own queue, oldest (next to be sent) first. */
  listPendingJobs(limit: number): Promise<JobRecord[]>;
  /** 1 + the pending jobs created before this one, while it is pending; null otherwise. */
  queuePosition(jobId: string): Promise<number | null>;
  /**
   * Atomically, across every instance: counts the jobs at Pixazo, takes the oldest pending
   * jobs that fit under `maxInFlight` (at most `limit`), and marks them 'submitting', owned by
   * `instanceId`. A job never becomes 'pending' again (the schema refuses it), so no job is
   * ever claimed twice. Oldest first.
   */
  claimPendingJobs(claim: DispatchClaim): Promise<JobRecord[]>;
  /** Records that `instanceId` is alive now, on the database's clock. */
  heartbeat(instanceId: string): Promise<void>;
  /** `instanceId` stopped: its unfinished jobs are adoptable at once. */
  removeInstance(instanceId: string): Promise<void>;
  /**
   * Atomically (one winner per job): makes `instanceId` the owner of every unfinished job sent
   * or being sent whose owner is unknown or stale, and returns those jobs, oldest first.
   */
  adoptJobs(adoption: Adoption): Promise<JobRecord[]>;
  usage(owner: Owner, day: string): Promise<Usage>;
  /**
   * Image retention: completed jobs whose images are still kept and that ended before
   * `endedBefore`, oldest end first, at most `limit` (one indexed range scan).
   */
  listJobsWithImagesEndedBefore(endedBefore: Date, limit: number): Promise<JobRecord[]>;
  /** Sets `imagesExpiredAt` once; false when it was set already (or there is no such job). */
  markImagesExpired(jobId: string, at: Date): Promise<boolean>;
  /**
   * Takes the lease `name` for `holder` until `until` when it is free, expired at `at`, or
   * already this holder's (a renewal): one holder at a time across every instance.
   */
  takeLease(name: string, holder: string, at: Date, until: Date): Promise<boolean>;
  /** Gives the lease up, if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /** The spending of each key in `keyIds` on `day` and in its month (0 when none). */
  keySpending(keyIds: readonly string[], day: string): Promise<Map<string, KeySpending>>;
  /**
   * Charged jobs of the ledger between two days, grouped: each job counts on its creation day,
   * its refunds included, so sums are exact. Groups with no charged job are left out; rows
   * sorted by the grouped fields.
   */
  usageReport(query: UsageQuery): Promise<UsageReportRow[]>;

  /** Stores a new key, and `audit` (its creation) in the same transaction. */
  createApiKey(key: ApiKeyRecord, audit?: AuditRecord): Promise<void>;
  /**
   * Stores `key` unless a key with its secret hash exists, in which case nothing changes; one
   * atomic step, so bootstraps that several instances run at once (ADMIN_API_KEY) all succeed
   * and leave one key. Returns the key stored under that hash, and whether this call stored it.
   */
  createApiKeyIfAbsent(key: ApiKeyRecord): Promise<{ created: boolean; key: ApiKeyRecord }>;
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  getApiKeyBySecretHash(secretHash: string): Promise<ApiKeyRecord | null>;
  /** Every key, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** These keys (those that exist), in no particular order. */
  getApiKeys(ids: readonly string[]): Promise<ApiKeyRecord[]>;
  /** Newest first; `after` is a key id from an earlier page. `first` capped at MAX_ADMIN_PAGE_SIZE. */
  listApiKeyPage(options: {
    first: number;
    after?: string | undefined;
    includeRevoked: boolean;
  }): Promise<ApiKeyPage>;
  /**
   * Applies `patch` (absent: kept, null: cleared) to the key's limits and writes the audit
   * entry with what changed, in one transaction; null when no such key exists.
   */
  updateApiKeyLimits(
    id: string,
    patch: LimitsPatch,
    audit: AuditDraft,
  ): Promise<ApiKeyRecord | null>;
  /**
   * Returns false when no such (unrevoked) key exists; `audit` is written with the revocation,
   * only when it happens.
   */
  revokeApiKey(id: string, audit?: AuditRecord): Promise<boolean>;
  /** Sets the key's lastUsedAt to `at` unless it was set less than `throttleMs` before. */
  recordApiKeyUse(id: string, at: Date, throttleMs: number): Promise<void>;
  /** Newest first; `after` is an entry id from an earlier page. `first` capped at MAX_ADMIN_PAGE_SIZE. */
  listAuditLog(first: number, after?: string): Promise<AuditPage>;

  /**
   * Outbound webhooks. `admitJob` (for QUEUED) and `updateJob` write a delivery to the outbox
   * in the same transaction as the change that makes the job enter a status it wants
   * (`wantsWebhook`), due at once; one per job and status. A claim takes due deliveries for one
   * worker at a time (a lease; SKIP LOCKED on PostgreSQL), oldest first.
   */
  claimWebhookDeliveries(claim: WebhookClaim): Promise<WebhookDelivery[]>;
  /** Adds the attempt and plans the next (or none); false when the lease was lost. */
  recordWebhookAttempt(result: WebhookAttemptResult): Promise<boolean>;
  /** Every attempt at the job's deliveries, oldest first. */
  listWebhookAttempts(jobId: string): Promise<WebhookAttempt[]>;
  /** Deliveries not yet delivered nor given up. */
  countWebhookDeliveriesQueued(): Promise<number>;
  /** The key's sealed signing secret; null when it has none yet (or no such key). */
  webhookSecret(keyId: string): Promise<string | null>;
  /**
   * Stores `sealed` as the key's signing secret: `replace` always (rotation), else only when
   * it has none. Returns the secret stored afterwards; null when there is no such key.
   */
  setWebhookSecret(keyId: string, sealed: string, replace: boolean): Promise<string | null>;

  /** The upstream condition every instance honours; null while Pixazo is taken to be healthy. */
  readUpstream(): Promise<UpstreamRecord | null>;
  /** Enters `condition` (or renews it, keeping `since`) with a cooldown to `until`; no probe out. */
  recordUpstreamCondition(condition: UpstreamCondition, at: Date, until: Date): Promise<void>;
  /** Atomically takes the one probe for `instanceId` if none is out and the cooldown ended by `at`. */
  takeUpstreamProbe(instanceId: string, at: Date): Promise<boolean>;
  /** The probe of `instanceId` ended without a verdict: the next may probe. */
  releaseUpstreamProbe(instanceId: string): Promise<void>;
  /** Pixazo accepted the probe of `instanceId`: the condition ends. False when not its probe. */
  clearUpstreamCondition(instanceId: string): Promise<boolean>;

  /** True when the store answers (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

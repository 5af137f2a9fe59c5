/**
 * What the SQL adapters share: the columns, how records become rows and back (through each
 * driver's codec), the in-flight predicate and prompt folding.
 */
import type { ModelKey } from '@zimage/core';
import type { AuditAction, AuditRecord } from '../domain/audit.ts';
import {
  isTerminal,
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  type StoredImage,
  type SubmissionState,
} from '../domain/job.ts';
import type { ApiKeyRecord, KeyLimits, Scope } from '../domain/principal.ts';
import type { UpstreamCondition } from '../domain/upstream.ts';
import {
  type JobPatch,
  type UpstreamRecord,
  USAGE_GROUPS,
  type UsageGroup,
  type UsageReportRow,
} from './store.ts';

/** Matches the jobs not yet in a terminal state. */
export const IN_FLIGHT_SQL = `status IN (${JOB_STATUSES.filter((s) => !isTerminal(s))
  .map((s) => `'${s}'`)
  .join(', ')})`;

/** Matches the jobs in the gateway's own queue (the partial index jobs_pending). */
export const PENDING_SQL = `status = 'QUEUED' AND submission = 'pending'`;

/**
 * The upstream-health statements, alike in both dialects: `$1`… are the parameters, in the
 * order each method passes them. A renewal keeps `since`; every record frees the probe.
 */
export const UPSTREAM_SQL = {
  read: 'SELECT condition, since, until, probe_by FROM upstream_health WHERE id = 1',
  record: `INSERT INTO upstream_health (id, condition, since, until, probe_by)
    VALUES (1, $1, $2, $3, NULL)
    ON CONFLICT (id) DO UPDATE SET
      since = CASE WHEN upstream_health.condition = excluded.condition
        THEN upstream_health.since ELSE excluded.since END,
      condition = excluded.condition, until = excluded.until, probe_by = NULL`,
  takeProbe: `UPDATE upstream_health SET probe_by = $1
    WHERE id = 1 AND probe_by IS NULL AND until <= $2 RETURNING id`,
  releaseProbe: 'UPDATE upstream_health SET probe_by = NULL WHERE id = 1 AND probe_by = $1',
  clear: 'DELETE FROM upstream_health WHERE id = 1 AND probe_by = $1 RETURNING id',
} as const;

export interface UpstreamRow<Time> {
  condition: string;
  since: Time;
  until: Time;
  probe_by: string | null;
}

/** Matches the jobs at Pixazo, or being sent: what the dispatch cap counts. */
export const AT_PIXAZO_SQL = `${IN_FLIGHT_SQL} AND submission IN ('submitting', 'submitted')`;

/**
 * Prompt search folds case in the application: Unicode-aware whatever the database's locale,
 * and the same on every store. Stored prompts are folded into `prompt_folded`.
 */
export const foldCase = (text: string): string => text.toLowerCase();

export const JOB_COLUMNS = [
  'id',
  'owner_key_id',
  'end_user_id',
  'idempotency_key',
  'model',
  'prompt',
  'prompt_folded',
  'image_size',
  'num_inference_steps',
  'guidance_scale',
  'num_images',
  'enable_safety_checker',
  'output_format',
  'acceleration',
  'status',
  'submission',
  'request_id',
  'webhook_token_hash',
  'error',
  'cost_micro_usd',
  'images',
  'version',
  'created_at',
  'updated_at',
  'started_at',
  'completed_at',
] as const;

export type JobColumn = (typeof JOB_COLUMNS)[number];

/**
 * How an adapter's driver represents what SQL has no one way to say: times, booleans and lists
 * (`Time`, `Flag`, `List`: the types its rows come back with). Encoders give parameter values.
 */
export interface SqlCodec<Time, Flag, List, Param> {
  readTime(value: Time): Date;
  writeTime(date: Date): Param;
  readFlag(value: Flag): boolean;
  writeFlag(value: boolean): Param;
  readList(value: List): unknown[];
  writeList(value: readonly unknown[]): Param;
  /** JSON objects (audit details) are stored as lists are. */
  readJson(value: List): unknown;
  writeJson(value: unknown): Param;
}

export interface JobRow<Time, Flag, List> {
  id: string;
  owner_key_id: string;
  end_user_id: string | null;
  idempotency_key: string | null;
  model: string;
  prompt: string;
  image_size: string;
  num_inference_steps: number;
  guidance_scale: number | null;
  num_images: number;
  enable_safety_checker: Flag;
  output_format: string;
  acceleration: string;
  status: string;
  submission: string;
  request_id: string | null;
  webhook_token_hash: string | null;
  error: string | null;
  cost_micro_usd: number;
  images: List;
  version: number;
  created_at: Time;
  updated_at: Time;
  started_at: Time | null;
  completed_at: Time | null;
}

export interface ApiKeyRow<Time, List> {
  id: string;
  name: string;
  secret_hash: string;
  prefix: string;
  scopes: List;
  daily_budget_micro_usd: number | null;
  max_concurrent_jobs: number | null;
  requests_per_minute: number | null;
  end_user_daily_budget_micro_usd: number | null;
  end_user_max_concurrent_jobs: number | null;
  end_user_requests_per_minute: number | null;
  monthly_budget_micro_usd: number | null;
  allowed_models: List | null;
  created_at: Time;
  last_used_at: Time | null;
  revoked_at: Time | null;
}

export const API_KEY_COLUMNS = [
  'id',
  'name',
  'secret_hash',
  'prefix',
  'scopes',
  'daily_budget_micro_usd',
  'max_concurrent_jobs',
  'requests_per_minute',
  'end_user_daily_budget_micro_usd',
  'end_user_max_concurrent_jobs',
  'end_user_requests_per_minute',
  'monthly_budget_micro_usd',
  'allowed_models',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const;

/** The columns of a key's limits, which a limits change rewrites together. */
export const API_KEY_LIMIT_COLUMNS = [
  'daily_budget_micro_usd',
  'monthly_budget_micro_usd',
  'max_concurrent_jobs',
  'requests_per_minute',
  'end_user_daily_budget_micro_usd',
  'end_user_max_concurrent_jobs',
  'end_user_requests_per_minute',
  'allowed_models',
] as const satisfies readonly ApiKeyColumn[];

export const AUDIT_COLUMNS = [
  'id',
  'at',
  'action',
  'actor',
  'actor_key_id',
  'api_key_id',
  'details',
] as const;

export type AuditColumn = (typeof AUDIT_COLUMNS)[number];

export interface AuditRow<Time, Json> {
  id: string;
  at: Time;
  action: string;
  actor: string;
  actor_key_id: string | null;
  api_key_id: string;
  details: Json;
}

/**
 * The usage report's statement, alike in both dialects (`$1` from, `$2` to, `$3` the row
 * limit; `dayText` turns the day column into 'YYYY-MM-DD' text). The ledger is summed per job
 * first, so a job counts once with its refunds netted, then per group.
 */
export function usageReportSql(
  groupBy: readonly UsageGroup[],
  dayText: (column: string) => string,
): string {
  const columns: Record<UsageGroup, string> = {
    day: dayText('per_job.day'),
    model: 'jobs.model',
    apiKey: 'per_job.key_id',
    endUser: 'per_job.end_user_id',
  };
  const aliases: Record<UsageGroup, string> = {
    day: 'day',
    model: 'model',
    apiKey: 'key_id',
    endUser: 'end_user_id',
  };
  const grouped = USAGE_GROUPS.filter((group) => groupBy.includes(group));
  const select = USAGE_GROUPS.map(
    (group) => `${grouped.includes(group) ? columns[group] : 'NULL'} AS ${aliases[group]}`,
  );
  const groupSql =
    grouped.length === 0 ? '' : `GROUP BY ${grouped.map((g) => columns[g]).join(', ')}`;
  // NULLS LAST in both: the key's own jobs after its end users'.
  const orderSql =
    grouped.length === 0
      ? ''
      : `ORDER BY ${grouped.map((g) => `${columns[g]} NULLS LAST`).join(', ')}`;
  return `
    WITH per_job AS (
      SELECT job_id, key_id, end_user_id, day, sum(micro_usd) AS micro_usd FROM usage_ledger
      WHERE day >= $1 AND day <= $2
      GROUP BY job_id, key_id, end_user_id, day
    )
    SELECT ${select.join(', ')},
      CAST(sum(CASE WHEN per_job.micro_usd > 0 THEN 1 ELSE 0 END) AS BIGINT) AS jobs,
      CAST(sum(CASE WHEN per_job.micro_usd > 0 THEN jobs.num_images ELSE 0 END) AS BIGINT) AS images,
      CAST(sum(per_job.micro_usd) AS BIGINT) AS micro_usd
    FROM per_job JOIN jobs ON jobs.id = per_job.job_id
    ${groupSql}
    HAVING sum(CASE WHEN per_job.micro_usd > 0 THEN 1 ELSE 0 END) > 0
    ${orderSql}
    LIMIT $3`;
}

export interface UsageReportSqlRow {
  day: string | null;
  model: string | null;
  key_id: string | null;
  end_user_id: string | null;
  jobs: number;
  images: number;
  micro_usd: number;
}

export type ApiKeyColumn = (typeof API_KEY_COLUMNS)[number];

/** A parameter value: the codec's, or what every driver takes as it is. */
type Value<Param> = Param | string | number | null;

/** Records to rows and back, for the adapter whose driver `codec` describes. */
export function sqlRecords<Time, Flag, List, Param>(codec: SqlCodec<Time, Flag, List, Param>) {
  const readTime = (value: Time | null): Date | null =>
    value === null ? null : codec.readTime(value);
  const writeTime = (date: Date | null): Value<Param> =>
    date === null ? null : codec.writeTime(date);

  /** How each patchable field is stored: its column and its SQL value. */
  const patchColumns: {
    [K in keyof Required<JobPatch>]: [
      column: JobColumn,
      write: (value: JobRecord[K]) => Value<Param>,
    ];
  } = {
    status: ['status', (v) => v],
    submission: ['submission', (v) => v],
    requestId: ['request_id', (v) => v],
    webhookTokenHash: ['webhook_token_hash', (v) => v],
    error: ['error', (v) => v],
    costMicroUsd: ['cost_micro_usd', (v) => v],
    images: ['images', (v) => codec.writeList(v)],
    startedAt: ['started_at', writeTime],
    completedAt: ['completed_at', writeTime],
  };

  return {
    toJob(row: JobRow<Time, Flag, List>): JobRecord {
      return {
        id: row.id,
        ownerKeyId: row.owner_key_id,
        endUserId: row.end_user_id,
        idempotencyKey: row.idempotency_key,
        model: row.model as ModelKey,
        prompt: row.prompt,
        imageSize: row.image_size as JobRecord['imageSize'],
        numInferenceSteps: row.num_inference_steps,
        guidanceScale: row.guidance_scale,
        numImages: row.num_images,
        enableSafetyChecker: codec.readFlag(row.enable_safety_checker),
        outputFormat: row.output_format as JobRecord['outputFormat'],
        acceleration: row.acceleration as JobRecord['acceleration'],
        status: row.status as JobStatus,
        submission: row.submission as SubmissionState,
        requestId: row.request_id,
        webhookTokenHash: row.webhook_token_hash,
        error: row.error,
        costMicroUsd: row.cost_micro_usd,
        images: codec.readList(row.images) as StoredImage[],
        version: row.version,
        createdAt: codec.readTime(row.created_at),
        updatedAt: codec.readTime(row.updated_at),
        startedAt: readTime(row.started_at),
        completedAt: readTime(row.completed_at),
      };
    },

    jobParams(job: JobRecord): Record<JobColumn, Value<Param>> {
      return {
        id: job.id,
        owner_key_id: job.ownerKeyId,
        end_user_id: job.endUserId,
        idempotency_key: job.idempotencyKey,
        model: job.model,
        prompt: job.prompt,
        prompt_folded: foldCase(job.prompt),
        image_size: job.imageSize,
        num_inference_steps: job.numInferenceSteps,
        guidance_scale: job.guidanceScale,
        num_images: job.numImages,
        enable_safety_checker: codec.writeFlag(job.enableSafetyChecker),
        output_format: job.outputFormat,
        acceleration: job.acceleration,
        status: job.status,
        submission: job.submission,
        request_id: job.requestId,
        webhook_token_hash: job.webhookTokenHash,
        error: job.error,
        cost_micro_usd: job.costMicroUsd,
        images: codec.writeList(job.images),
        version: job.version,
        created_at: codec.writeTime(job.createdAt),
        updated_at: codec.writeTime(job.updatedAt),
        started_at: writeTime(job.startedAt),
        completed_at: writeTime(job.completedAt),
      };
    },

    /** The columns and values a patch sets, in a fixed order (one statement per shape). */
    patchParams(patch: JobPatch): [column: JobColumn, value: Value<Param>][] {
      const set: [JobColumn, Value<Param>][] = [];
      for (const [field, [column, write]] of Object.entries(patchColumns)) {
        const value = patch[field as keyof JobPatch];
        if (value !== undefined) set.push([column, (write as (v: unknown) => Value<Param>)(value)]);
      }
      return set;
    },

    toUpstream(row: UpstreamRow<Time>): UpstreamRecord {
      return {
        condition: row.condition as UpstreamCondition,
        since: codec.readTime(row.since),
        until: codec.readTime(row.until),
        probeBy: row.probe_by,
      };
    },

    toApiKey(row: ApiKeyRow<Time, List>): ApiKeyRecord {
      return {
        id: row.id,
        name: row.name,
        secretHash: row.secret_hash,
        prefix: row.prefix,
        scopes: codec.readList(row.scopes) as Scope[],
        limits: {
          dailyBudgetMicroUsd: row.daily_budget_micro_usd,
          monthlyBudgetMicroUsd: row.monthly_budget_micro_usd,
          maxConcurrentJobs: row.max_concurrent_jobs,
          requestsPerMinute: row.requests_per_minute,
          allowedModels:
            row.allowed_models === null
              ? null
              : (codec.readList(row.allowed_models) as KeyLimits['allowedModels']),
        },
        endUserLimits: {
          dailyBudgetMicroUsd: row.end_user_daily_budget_micro_usd,
          maxConcurrentJobs: row.end_user_max_concurrent_jobs,
          requestsPerMinute: row.end_user_requests_per_minute,
        },
        createdAt: codec.readTime(row.created_at),
        lastUsedAt: readTime(row.last_used_at),
        revokedAt: readTime(row.revoked_at),
      };
    },

    /** The values of API_KEY_LIMIT_COLUMNS for `key`, in that order. */
    apiKeyLimitParams(key: Pick<ApiKeyRecord, 'limits' | 'endUserLimits'>): Value<Param>[] {
      const { limits, endUserLimits } = key;
      const values: Record<(typeof API_KEY_LIMIT_COLUMNS)[number], Value<Param>> = {
        daily_budget_micro_usd: limits.dailyBudgetMicroUsd,
        monthly_budget_micro_usd: limits.monthlyBudgetMicroUsd,
        max_concurrent_jobs: limits.maxConcurrentJobs,
        requests_per_minute: limits.requestsPerMinute,
        end_user_daily_budget_micro_usd: endUserLimits.dailyBudgetMicroUsd,
        end_user_max_concurrent_jobs: endUserLimits.maxConcurrentJobs,
        end_user_requests_per_minute: endUserLimits.requestsPerMinute,
        allowed_models:
          limits.allowedModels === null ? null : codec.writeList(limits.allowedModels),
      };
      return API_KEY_LIMIT_COLUMNS.map((column) => values[column]);
    },

    toAudit(row: AuditRow<Time, List>): AuditRecord {
      return {
        id: row.id,
        at: codec.readTime(row.at),
        action: row.action as AuditAction,
        actor: { keyId: row.actor_key_id, label: row.actor },
        apiKeyId: row.api_key_id,
        details: codec.readJson(row.details) as Record<string, unknown>,
      };
    },

    /** The values of AUDIT_COLUMNS for `entry`, in that order. */
    auditParams(entry: AuditRecord): Value<Param>[] {
      const values: Record<AuditColumn, Value<Param>> = {
        id: entry.id,
        at: codec.writeTime(entry.at),
        action: entry.action,
        actor: entry.actor.label,
        actor_key_id: entry.actor.keyId,
        api_key_id: entry.apiKeyId,
        details: codec.writeJson(entry.details),
      };
      return AUDIT_COLUMNS.map((column) => values[column]);
    },

    toUsageRow(row: UsageReportSqlRow): UsageReportRow {
      return {
        day: row.day,
        model: row.model as ModelKey | null,
        keyId: row.key_id,
        endUserId: row.end_user_id,
        jobs: row.jobs,
        images: row.images,
        microUsd: row.micro_usd,
      };
    },

    apiKeyParams(key: ApiKeyRecord): Record<ApiKeyColumn, Value<Param>> {
      return {
        id: key.id,
        name: key.name,
        secret_hash: key.secretHash,
        prefix: key.prefix,
        scopes: codec.writeList(key.scopes),
        daily_budget_micro_usd: key.limits.dailyBudgetMicroUsd,
        max_concurrent_jobs: key.limits.maxConcurrentJobs,
        requests_per_minute: key.limits.requestsPerMinute,
        end_user_daily_budget_micro_usd: key.endUserLimits.dailyBudgetMicroUsd,
        end_user_max_concurrent_jobs: key.endUserLimits.maxConcurrentJobs,
        end_user_requests_per_minute: key.endUserLimits.requestsPerMinute,
        monthly_budget_micro_usd: key.limits.monthlyBudgetMicroUsd,
        allowed_models:
          key.limits.allowedModels === null ? null : codec.writeList(key.limits.allowedModels),
        created_at: codec.writeTime(key.createdAt),
        last_used_at: writeTime(key.lastUsedAt),
        revoked_at: writeTime(key.revokedAt),
      };
    },
  };
}

/**
 * The embedded Store: one SQLite file through node:sqlite. Every method runs synchronously
 * inside its promise, so within this process nothing interleaves; BEGIN IMMEDIATE (take the
 * write lock before the first read) makes check-then-insert atomic across processes too,
 * e.g. the keys CLI writing while the gateway runs.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { ModelKey } from '@zimage/core';
import {
  type AdmissionFacts,
  type AdmissionRequest,
  type AdmissionResult,
  admissionScopes,
  decideAdmission,
  type Owner,
  type Usage,
} from '../domain/admission.ts';
import {
  isTerminal,
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  type StoredImage,
  type SubmissionState,
} from '../domain/job.ts';
import type { ApiKeyRecord, Scope } from '../domain/principal.ts';
import { SQLITE_MIGRATIONS } from './migrations/sqlite.ts';
import {
  type JobFilter,
  type JobPage,
  type JobPatch,
  MAX_JOBS_PAGE_SIZE,
  type Store,
  type StoreOptions,
} from './store.ts';

/** How long a writer waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

const IN_FLIGHT_SQL = `status IN (${JOB_STATUSES.filter((s) => !isTerminal(s))
  .map((s) => `'${s}'`)
  .join(', ')})`;

/**
 * Opens (creating if needed) the database at `path`, or a private in-memory one for
 * ':memory:', and applies pending migrations.
 */
export function openSqliteStore(path: string, options: StoreOptions = {}): Store {
  const now = options.now ?? (() => new Date());
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, {
    timeout: BUSY_TIMEOUT_MS,
    enableForeignKeyConstraints: true,
  });
  try {
    // WAL lets readers (list, usage) proceed while a writer commits. synchronous stays FULL
    // (the default): a commit must survive power loss, or a job marked 'submitting' could
    // come back 'pending' and be sent to Pixazo twice.
    db.exec('PRAGMA journal_mode = WAL');
    migrate(db, now);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteStore(db, now);
}

function migrate(db: DatabaseSync, now: () => Date): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const current = db.prepare('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const known = SQLITE_MIGRATIONS.length;
  const applied = (current.get() as { version: number }).version;
  if (applied > known) {
    throw new Error(
      `The database schema is at version ${applied}, newer than this gateway knows (${known}); run a newer gateway`,
    );
  }
  SQLITE_MIGRATIONS.forEach((migration, index) => {
    const version = index + 1;
    // Re-read inside the write lock: another process may have applied this step meanwhile.
    inTransaction(db, () => {
      if ((current.get() as { version: number }).version >= version) return;
      db.exec(migration.sql);
      record.run(version, migration.name, now().getTime());
    });
  });
}

function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

interface JobRow {
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
  enable_safety_checker: number;
  output_format: string;
  acceleration: string;
  status: string;
  submission: string;
  request_id: string | null;
  webhook_token_hash: string | null;
  error: string | null;
  cost_micro_usd: number;
  images: string;
  version: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
}

interface ApiKeyRow {
  id: string;
  name: string;
  secret_hash: string;
  prefix: string;
  scopes: string;
  daily_budget_micro_usd: number | null;
  max_concurrent_jobs: number | null;
  requests_per_minute: number | null;
  end_user_daily_budget_micro_usd: number | null;
  end_user_max_concurrent_jobs: number | null;
  end_user_requests_per_minute: number | null;
  created_at: number;
  revoked_at: number | null;
}

const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
const msOrNull = (date: Date | null): number | null => (date === null ? null : date.getTime());

/** Prompt search folds case in the application: Unicode-aware, and the same on every store. */
const foldCase = (text: string): string => text.toLowerCase();

/** A LIKE pattern matching `text` anywhere, with its own `%`, `_` and `\` taken literally. */
const containsPattern = (text: string): string =>
  `%${foldCase(text).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A WHERE clause, condition by condition; one with an unset value is left out. */
function filterConditions(filter: JobFilter) {
  const conditions: string[] = [];
  const params: Record<string, SQLInputValue> = {};
  const where = {
    params,
    add(condition: string, values: Record<string, SQLInputValue | undefined>) {
      const entries = Object.entries(values);
      if (entries.some(([, value]) => value === undefined || value === null)) return;
      conditions.push(condition);
      Object.assign(params, values);
    },
    sql: () => (conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''),
  };
  where.add('owner_key_id = :owner', { owner: filter.ownerKeyId });
  where.add('end_user_id = :endUser', { endUser: filter.endUserId });
  where.add('status = :status', { status: filter.status });
  where.add('model = :model', { model: filter.model });
  where.add("prompt_folded LIKE :pattern ESCAPE '\\'", {
    pattern: filter.search === undefined ? undefined : containsPattern(filter.search),
  });
  return where;
}

function toJob(row: JobRow): JobRecord {
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
    enableSafetyChecker: row.enable_safety_checker === 1,
    outputFormat: row.output_format as JobRecord['outputFormat'],
    acceleration: row.acceleration as JobRecord['acceleration'],
    status: row.status as JobStatus,
    submission: row.submission as SubmissionState,
    requestId: row.request_id,
    webhookTokenHash: row.webhook_token_hash,
    error: row.error,
    costMicroUsd: row.cost_micro_usd,
    images: JSON.parse(row.images) as StoredImage[],
    version: row.version,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    startedAt: dateOrNull(row.started_at),
    completedAt: dateOrNull(row.completed_at),
  };
}

const JOB_COLUMNS = [
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

function jobParams(job: JobRecord): Record<(typeof JOB_COLUMNS)[number], SQLInputValue> {
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
    enable_safety_checker: job.enableSafetyChecker ? 1 : 0,
    output_format: job.outputFormat,
    acceleration: job.acceleration,
    status: job.status,
    submission: job.submission,
    request_id: job.requestId,
    webhook_token_hash: job.webhookTokenHash,
    error: job.error,
    cost_micro_usd: job.costMicroUsd,
    images: JSON.stringify(job.images),
    version: job.version,
    created_at: job.createdAt.getTime(),
    updated_at: job.updatedAt.getTime(),
    started_at: msOrNull(job.startedAt),
    completed_at: msOrNull(job.completedAt),
  };
}

/** How each patchable field is stored: its column and its SQL value. */
const PATCH_COLUMNS: {
  [K in keyof Required<JobPatch>]: [column: string, toSql: (value: JobRecord[K]) => SQLInputValue];
} = {
  status: ['status', (v) => v],
  submission: ['submission', (v) => v],
  requestId: ['request_id', (v) => v],
  webhookTokenHash: ['webhook_token_hash', (v) => v],
  error: ['error', (v) => v],
  costMicroUsd: ['cost_micro_usd', (v) => v],
  images: ['images', (v) => JSON.stringify(v)],
  startedAt: ['started_at', msOrNull],
  completedAt: ['completed_at', msOrNull],
};

function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as Scope[],
    limits: {
      dailyBudgetMicroUsd: row.daily_budget_micro_usd,
      maxConcurrentJobs: row.max_concurrent_jobs,
      requestsPerMinute: row.requests_per_minute,
    },
    endUserLimits: {
      dailyBudgetMicroUsd: row.end_user_daily_budget_micro_usd,
      maxConcurrentJobs: row.end_user_max_concurrent_jobs,
      requestsPerMinute: row.end_user_requests_per_minute,
    },
    createdAt: new Date(row.created_at),
    revokedAt: dateOrNull(row.revoked_at),
  };
}

class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  /** Statements built from a filter or patch shape, prepared once per distinct shape. */
  readonly #dynamic = new Map<string, StatementSync>();
  readonly #sql;

  constructor(db: DatabaseSync, now: () => Date) {
    this.#db = db;
    this.#now = () => now().getTime();
    const prepare = (sql: string) => db.prepare(sql);
    this.#sql = {
      jobById: prepare('SELECT * FROM jobs WHERE id = ?'),
      jobByIdempotencyKey: prepare(
        `SELECT * FROM jobs WHERE owner_key_id = :owner AND end_user_id IS :endUser
           AND idempotency_key = :idempotencyKey`,
      ),
      insertJob: prepare(
        `INSERT INTO jobs (${JOB_COLUMNS.join(', ')})
           VALUES (${JOB_COLUMNS.map((c) => `:${c}`).join(', ')})`,
      ),
      unfinishedJobs: prepare(`SELECT * FROM jobs WHERE ${IN_FLIGHT_SQL} ORDER BY id`),
      pendingJobCount: prepare(
        `SELECT count(*) AS total FROM jobs WHERE status = 'QUEUED' AND submission = 'pending'`,
      ),
      keySpent: prepare(
        `SELECT coalesce(sum(micro_usd), 0) AS total FROM usage_ledger
           WHERE key_id = :owner AND day = :day`,
      ),
      endUserSpent: prepare(
        `SELECT coalesce(sum(micro_usd), 0) AS total FROM usage_ledger
           WHERE key_id = :owner AND end_user_id = :endUser AND day = :day`,
      ),
      keyInFlight: prepare(
        `SELECT count(*) AS total FROM jobs WHERE owner_key_id = :owner AND ${IN_FLIGHT_SQL}`,
      ),
      endUserInFlight: prepare(
        `SELECT count(*) AS total FROM jobs
           WHERE owner_key_id = :owner AND end_user_id = :endUser AND ${IN_FLIGHT_SQL}`,
      ),
      insertCharge: prepare(
        `INSERT INTO usage_ledger (job_id, key_id, end_user_id, day, micro_usd, reason, at)
           VALUES (:jobId, :keyId, :endUserId, :day, :microUsd, 'charge', :at)`,
      ),
      // A cost change books against the same key, end user and day as the job's charge.
      insertAdjustment: prepare(
        `INSERT INTO usage_ledger (job_id, key_id, end_user_id, day, micro_usd, reason, at)
           SELECT job_id, key_id, end_user_id, day, :microUsd, :reason, :at FROM usage_ledger
           WHERE job_id = :jobId AND reason = 'charge' ORDER BY id LIMIT 1`,
      ),
      insertKey: prepare(
        `INSERT INTO api_keys (id, name, secret_hash, prefix, scopes,
           daily_budget_micro_usd, max_concurrent_jobs, requests_per_minute,
           end_user_daily_budget_micro_usd, end_user_max_concurrent_jobs,
           end_user_requests_per_minute, created_at, revoked_at)
         VALUES (:id, :name, :secretHash, :prefix, :scopes, :dailyBudget, :maxConcurrent, :rpm,
           :endUserDailyBudget, :endUserMaxConcurrent, :endUserRpm, :createdAt, :revokedAt)`,
      ),
      keyById: prepare('SELECT * FROM api_keys WHERE id = ?'),
      keyBySecretHash: prepare('SELECT * FROM api_keys WHERE secret_hash = ?'),
      allKeys: prepare('SELECT * FROM api_keys ORDER BY id'),
      revokeKey: prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      ping: prepare('SELECT 1 AS ok'),
    };
  }

  async admitJob(request: AdmissionRequest): Promise<AdmissionResult> {
    const { job, day } = request;
    return inTransaction(this.#db, (): AdmissionResult => {
      const existing =
        job.idempotencyKey === null
          ? null
          : this.#jobByIdempotencyKey(
              { keyId: job.ownerKeyId, endUserId: job.endUserId },
              job.idempotencyKey,
            );
      const usage: AdmissionFacts['usage'] = {};
      for (const { scope, owner } of admissionScopes(request)) {
        usage[scope] = this.#usage(owner, day);
      }
      const decision = decideAdmission(request, { existing, usage });
      if (decision.kind !== 'created') return decision;

      this.#sql.insertJob.run(jobParams(job));
      this.#sql.insertCharge.run({
        jobId: job.id,
        keyId: job.ownerKeyId,
        endUserId: job.endUserId,
        day,
        microUsd: job.costMicroUsd,
        at: this.#now(),
      });
      return decision;
    });
  }

  async getJob(id: string): Promise<JobRecord | null> {
    return this.#job(id);
  }

  async findJobByIdempotencyKey(owner: Owner, idempotencyKey: string): Promise<JobRecord | null> {
    return this.#jobByIdempotencyKey(owner, idempotencyKey);
  }

  async updateJob(id: string, expectedVersion: number, patch: JobPatch): Promise<JobRecord | null> {
    return inTransaction(this.#db, () => {
      const before = this.#job(id);
      if (before === null || before.version !== expectedVersion) return null;

      const columns: string[] = [];
      const params: Record<string, SQLInputValue> = {
        id,
        expectedVersion,
        updatedAt: this.#now(),
      };
      for (const [field, [column, toSql]] of Object.entries(PATCH_COLUMNS)) {
        const value = patch[field as keyof JobPatch];
        if (value === undefined) continue;
        columns.push(column);
        params[column] = (toSql as (v: unknown) => SQLInputValue)(value);
      }
      const set = [
        ...columns.map((c) => `${c} = :${c}`),
        'version = version + 1',
        'updated_at = :updatedAt',
      ];
      this.#statement(
        `UPDATE jobs SET ${set.join(', ')} WHERE id = :id AND version = :expectedVersion`,
      ).run(params);

      const after = this.#job(id) as JobRecord;
      const difference = after.costMicroUsd - before.costMicroUsd;
      if (difference !== 0) {
        this.#sql.insertAdjustment.run({
          jobId: id,
          microUsd: difference,
          reason: difference < 0 ? 'refund' : 'charge',
          at: this.#now(),
        });
      }
      return after;
    });
  }

  async listJobs(filter: JobFilter, first: number, after?: string): Promise<JobPage> {
    const where = filterConditions(filter);
    where.add('id < :after', { after });
    return this.#page(`${where.sql()} ORDER BY id DESC`, where.params, first);
  }

  async listJobsUpdatedSince(
    filter: JobFilter,
    since: Date,
    first: number,
    after?: Pick<JobRecord, 'id' | 'updatedAt'>,
  ): Promise<JobPage> {
    const where = filterConditions(filter);
    where.add('updated_at >= :since', { since: since.getTime() });
    where.add('(updated_at, id) > (:afterAt, :afterId)', {
      afterAt: after?.updatedAt.getTime(),
      afterId: after?.id,
    });
    return this.#page(`${where.sql()} ORDER BY updated_at, id`, where.params, first);
  }

  /** One page of at most `first` (capped) jobs, and whether more follow. */
  #page(sql: string, params: Record<string, SQLInputValue>, first: number): JobPage {
    const limit = Math.max(0, Math.min(Math.floor(first), MAX_JOBS_PAGE_SIZE));
    const rows = this.#statement(`SELECT * FROM jobs ${sql} LIMIT :limit`).all({
      ...params,
      limit: limit + 1,
    }) as unknown as JobRow[];
    return { jobs: rows.slice(0, limit).map(toJob), hasNextPage: rows.length > limit };
  }

  async listUnfinishedJobs(): Promise<JobRecord[]> {
    return (this.#sql.unfinishedJobs.all() as unknown as JobRow[]).map(toJob);
  }

  async countPendingJobs(): Promise<number> {
    return (this.#sql.pendingJobCount.get() as { total: number }).total;
  }

  async usage(owner: Owner, day: string): Promise<Usage> {
    return this.#usage(owner, day);
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    this.#sql.insertKey.run({
      id: key.id,
      name: key.name,
      secretHash: key.secretHash,
      prefix: key.prefix,
      scopes: JSON.stringify(key.scopes),
      dailyBudget: key.limits.dailyBudgetMicroUsd,
      maxConcurrent: key.limits.maxConcurrentJobs,
      rpm: key.limits.requestsPerMinute,
      endUserDailyBudget: key.endUserLimits.dailyBudgetMicroUsd,
      endUserMaxConcurrent: key.endUserLimits.maxConcurrentJobs,
      endUserRpm: key.endUserLimits.requestsPerMinute,
      createdAt: key.createdAt.getTime(),
      revokedAt: msOrNull(key.revokedAt),
    });
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const row = this.#sql.keyById.get(id) as ApiKeyRow | undefined;
    return row ? toApiKey(row) : null;
  }

  async getApiKeyBySecretHash(secretHash: string): Promise<ApiKeyRecord | null> {
    const row = this.#sql.keyBySecretHash.get(secretHash) as ApiKeyRow | undefined;
    return row ? toApiKey(row) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (this.#sql.allKeys.all() as unknown as ApiKeyRow[]).map(toApiKey);
  }

  async revokeApiKey(id: string): Promise<boolean> {
    return this.#sql.revokeKey.run(this.#now(), id).changes > 0;
  }

  async ping(): Promise<boolean> {
    try {
      return this.#sql.ping.get() !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  #job(id: string): JobRecord | null {
    const row = this.#sql.jobById.get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  #jobByIdempotencyKey(owner: Owner, idempotencyKey: string): JobRecord | null {
    const row = this.#sql.jobByIdempotencyKey.get({
      owner: owner.keyId,
      endUser: owner.endUserId,
      idempotencyKey,
    }) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  #usage(owner: Owner, day: string): Usage {
    return { spentMicroUsd: this.#spent(owner, day), jobsInFlight: this.#inFlight(owner) };
  }

  #spent(owner: Owner, day: string): number {
    const row =
      owner.endUserId === null
        ? this.#sql.keySpent.get({ owner: owner.keyId, day })
        : this.#sql.endUserSpent.get({ owner: owner.keyId, endUser: owner.endUserId, day });
    return (row as { total: number }).total;
  }

  #inFlight(owner: Owner): number {
    const row =
      owner.endUserId === null
        ? this.#sql.keyInFlight.get({ owner: owner.keyId })
        : this.#sql.endUserInFlight.get({ owner: owner.keyId, endUser: owner.endUserId });
    return (row as { total: number }).total;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#dynamic.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#dynamic.set(sql, statement);
    }
    return statement;
  }
}

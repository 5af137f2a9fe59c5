/**
 * The embedded Store: one SQLite file through node:sqlite. Every method runs synchronously
 * inside its promise, so within this process nothing interleaves; BEGIN IMMEDIATE (take the
 * write lock before the first read) makes check-then-insert atomic across processes too,
 * e.g. the keys CLI writing while the gateway runs. Writes are group-committed
 * (sqlite-group-commit.ts): a write's promise settles once it is durable.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  type AdmissionFacts,
  type AdmissionRequest,
  type AdmissionResult,
  admissionScopes,
  decideAdmission,
  monthStart,
  type Owner,
  type Usage,
} from '../domain/admission.ts';
import type { AuditDraft, AuditRecord } from '../domain/audit.ts';
import type { JobRecord } from '../domain/job.ts';
import { flatLimits, type LimitsPatch, limitsChange, patchedLimits } from '../domain/key-limits.ts';
import type { ApiKeyRecord } from '../domain/principal.ts';
import type { UpstreamCondition } from '../domain/upstream.ts';
import { type WebhookAttempt, type WebhookDelivery, wantsWebhook } from '../domain/webhook.ts';
import { newId } from '../ids.ts';
import { assertKnownSchemaVersion } from './migrations/migration.ts';
import { SQLITE_MIGRATIONS } from './migrations/sqlite.ts';
import {
  API_KEY_COLUMNS,
  API_KEY_LIMIT_COLUMNS,
  type ApiKeyRow,
  AT_PIXAZO_SQL,
  AUDIT_COLUMNS,
  type AuditRow,
  foldCase,
  IMAGES_KEPT_SQL,
  IN_FLIGHT_SQL,
  JOB_COLUMNS,
  type JobRow,
  oldestDeliveryFirst,
  PENDING_SQL,
  RETENTION_SQL,
  searchWords,
  sqlRecords,
  TRIGRAM_LENGTH,
  UPSTREAM_SQL,
  type UpstreamRow,
  type UsageReportSqlRow,
  usageReportSql,
  WEBHOOK_DELIVERY_COLUMNS,
  WEBHOOK_SQL,
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
} from './sql.ts';
import { GroupCommit } from './sqlite-group-commit.ts';
import {
  type Adoption,
  type ApiKeyPage,
  type AuditPage,
  type DispatchClaim,
  type JobFilter,
  type JobPage,
  type JobPatch,
  type KeySpending,
  MAX_ADMIN_PAGE_SIZE,
  MAX_JOBS_PAGE_SIZE,
  pageSize,
  type Store,
  type StoreOptions,
  type UpstreamRecord,
  type UsageQuery,
  type UsageReportRow,
  type WebhookAttemptResult,
  type WebhookClaim,
} from './store.ts';

/** The gateway's own queue, read through its partial index (see the statements). */
const PENDING_JOBS = 'jobs INDEXED BY jobs_pending';

/** How long a writer waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

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
  assertKnownSchemaVersion(applied, known);
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

type SqliteJobRow = JobRow<number, number, string>;
type SqliteApiKeyRow = ApiKeyRow<number, string>;

/** Times are epoch milliseconds, booleans 0/1, lists JSON text (migrations/sqlite.ts). */
const records = sqlRecords<number, number, string, SQLInputValue>({
  readTime: (ms) => new Date(ms),
  writeTime: (date) => date.getTime(),
  readFlag: (flag) => flag === 1,
  writeFlag: (value) => (value ? 1 : 0),
  readList: (text) => JSON.parse(text) as unknown[],
  writeList: (list) => JSON.stringify(list),
  readJson: (text) => JSON.parse(text) as unknown,
  writeJson: (value) => JSON.stringify(value),
});

/** `$n` is PostgreSQL's numbered parameter; SQLite's is `?n`. */
const sqliteParams = (sql: string): string => sql.replace(/\$(\d+)/g, '?$1');

/** Adds `condition` with its named `values`, unless one of them is unset. */
type SqlCondition = (condition: string, values: Record<string, SQLInputValue | undefined>) => void;

/** A LIKE pattern matching `text` anywhere, with its own `%`, `_` and `\` taken literally. */
const containsPattern = (text: string): string =>
  `%${foldCase(text).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A job snapshot of the outbox: its row, as JSON. */
const readJobSnapshot = (text: string): JobRecord =>
  records.toJob(JSON.parse(text) as SqliteJobRow);

/** Statements both dialects share (sql.ts), prepared as `<prefix>_<name>`. */
function prepareShared<Prefix extends string, Names extends string>(
  prepare: (sql: string) => StatementSync,
  prefix: Prefix,
  statements: Readonly<Record<Names, string>>,
): Record<`${Prefix}_${Names}`, StatementSync> {
  return Object.fromEntries(
    Object.entries<string>(statements).map(([name, sql]) => [
      `${prefix}_${name}`,
      prepare(sqliteParams(sql)),
    ]),
  ) as Record<`${Prefix}_${Names}`, StatementSync>;
}

class SqliteStore implements Store {
  readonly singleProcess = true;
  readonly groupCommit = true;
  readonly #db: DatabaseSync;
  /** Every write goes through it: those of one turn of the event loop share a commit. */
  readonly #writes: GroupCommit;
  readonly #now: () => number;
  /** Statements built from a filter or patch shape, prepared once per distinct shape. */
  readonly #dynamic = new Map<string, StatementSync>();
  readonly #sql;

  constructor(db: DatabaseSync, now: () => Date) {
    this.#db = db;
    this.#writes = new GroupCommit(db);
    this.#now = () => now().getTime();
    const prepare = (sql: string) => db.prepare(sql);
    this.#sql = {
      jobById: prepare('SELECT * FROM jobs WHERE id = ?'),
      jobByIdempotencyKey: prepare(
        // Spelled as the unique index jobs_idempotency is, so that it serves the lookup
        // (`end_user_id IS :endUser` walked every job of the key instead).
        `SELECT * FROM jobs WHERE owner_key_id = :owner
           AND coalesce(end_user_id, '') = coalesce(:endUser, '') AND idempotency_key = :idempotencyKey`,
      ),
      insertJob: prepare(
        `INSERT INTO jobs (${JOB_COLUMNS.join(', ')})
           VALUES (${JOB_COLUMNS.map((c) => `:${c}`).join(', ')})`,
      ),
      // INDEXED BY: without statistics the planner takes jobs_by_status and walks every QUEUED
      // job, those already at Pixazo included, on each claim (a scan that grows with the queue).
      pendingJobCount: prepare(
        `SELECT count(*) AS total FROM ${PENDING_JOBS} WHERE ${PENDING_SQL}`,
      ),
      pendingJobs: prepare(
        `SELECT * FROM ${PENDING_JOBS} WHERE ${PENDING_SQL} ORDER BY id LIMIT ?`,
      ),
      queuePosition: prepare(
        `SELECT (SELECT count(*) FROM ${PENDING_JOBS} WHERE ${PENDING_SQL} AND id <= job.id) AS position
           FROM jobs AS job WHERE job.id = ? AND job.status = 'QUEUED' AND job.submission = 'pending'`,
      ),
      atPixazoCount: prepare(
        `SELECT count(*) AS total FROM jobs INDEXED BY jobs_at_pixazo WHERE ${AT_PIXAZO_SQL}`,
      ),
      claimJob: prepare(
        `UPDATE jobs SET submission = 'submitting', owner_instance = :instance,
             version = version + 1, updated_at = :at
           WHERE id = :id AND ${PENDING_SQL} RETURNING *`,
      ),
      heartbeat: prepare(
        `INSERT INTO instances (id, heartbeat_at) VALUES (:id, :at)
           ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      ),
      removeInstance: prepare('DELETE FROM instances WHERE id = ?'),
      adoptJobs: prepare(
        `UPDATE jobs SET owner_instance = :instance
           WHERE ${AT_PIXAZO_SQL} AND owner_instance IS NOT :instance
             AND NOT EXISTS (SELECT 1 FROM instances WHERE instances.id = jobs.owner_instance
               AND instances.heartbeat_at > :at - CASE jobs.submission
                 WHEN 'submitting' THEN :submittingStaleAfterMs ELSE :staleAfterMs END)
           RETURNING *`,
      ),
      // Spending from :since to :day (the day alone, or its month up to it).
      keySpent: prepare(
        `SELECT coalesce(sum(micro_usd), 0) AS total FROM usage_ledger
           WHERE key_id = :owner AND day >= :since AND day <= :day`,
      ),
      endUserSpent: prepare(
        `SELECT coalesce(sum(micro_usd), 0) AS total FROM usage_ledger
           WHERE key_id = :owner AND end_user_id = :endUser AND day >= :since AND day <= :day`,
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
        `INSERT INTO api_keys (${API_KEY_COLUMNS.join(', ')})
           VALUES (${API_KEY_COLUMNS.map((c) => `:${c}`).join(', ')})`,
      ),
      insertKeyIfAbsent: prepare(
        `INSERT INTO api_keys (${API_KEY_COLUMNS.join(', ')})
           VALUES (${API_KEY_COLUMNS.map((c) => `:${c}`).join(', ')})
           ON CONFLICT (secret_hash) DO NOTHING`,
      ),
      keyById: prepare('SELECT * FROM api_keys WHERE id = ?'),
      keyPage: prepare(
        `SELECT * FROM api_keys WHERE (:after IS NULL OR id < :after)
           AND (:includeRevoked = 1 OR revoked_at IS NULL) ORDER BY id DESC LIMIT :limit`,
      ),
      updateKeyLimits: prepare(
        `UPDATE api_keys SET ${API_KEY_LIMIT_COLUMNS.map((c, i) => `${c} = ?${i + 2}`).join(', ')}
           WHERE id = ?1`,
      ),
      recordKeyUse: prepare(
        `UPDATE api_keys SET last_used_at = :at
           WHERE id = :id AND (last_used_at IS NULL OR last_used_at <= :at - :throttleMs)`,
      ),
      insertAudit: prepare(
        `INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')})
           VALUES (${AUDIT_COLUMNS.map((_, i) => `?${i + 1}`).join(', ')})`,
      ),
      auditPage: prepare(
        'SELECT * FROM audit_log WHERE (:after IS NULL OR id < :after) ORDER BY id DESC LIMIT :limit',
      ),
      keyBySecretHash: prepare('SELECT * FROM api_keys WHERE secret_hash = ?'),
      allKeys: prepare('SELECT * FROM api_keys ORDER BY id'),
      revokeKey: prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      ping: prepare('SELECT 1 AS ok'),
      ...prepareShared(prepare, 'upstream', UPSTREAM_SQL),
      ...prepareShared(prepare, 'retention', RETENTION_SQL),
      imagesKept: prepare(
        sqliteParams(`SELECT * FROM jobs WHERE ${IMAGES_KEPT_SQL} ORDER BY completed_at LIMIT $2`),
      ),
      insertDelivery: prepare(
        `INSERT INTO webhook_deliveries (id, job_id, key_id, event, url, job, created_at, next_attempt_at)
           VALUES (:id, :jobId, :keyId, :event, :url, :job, :createdAt, :dueAt)
           ON CONFLICT (job_id, event) DO NOTHING`,
      ),
      claimWebhooks: prepare(
        sqliteParams(`${WEBHOOK_SQL.claimChosen}
          UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $5
          WHERE id IN (SELECT id FROM chosen) RETURNING ${WEBHOOK_DELIVERY_COLUMNS.join(', ')}`),
      ),
      finishAttempt: prepare(sqliteParams(WEBHOOK_SQL.finishAttempt)),
      insertAttempt: prepare(sqliteParams(WEBHOOK_SQL.insertAttempt)),
      listAttempts: prepare(sqliteParams(WEBHOOK_SQL.listAttempts)),
      webhookQueueDepth: prepare(WEBHOOK_SQL.queueDepth),
      readSecret: prepare(sqliteParams(WEBHOOK_SQL.readSecret)),
      keepSecret: prepare(sqliteParams(WEBHOOK_SQL.keepSecret)),
      replaceSecret: prepare(sqliteParams(WEBHOOK_SQL.replaceSecret)),
    };
  }

  async admitJob(request: AdmissionRequest): Promise<AdmissionResult> {
    const { job, day } = request;
    return this.#writes.write((): AdmissionResult => {
      const existing =
        job.idempotencyKey === null
          ? null
          : this.#jobByIdempotencyKey(
              { keyId: job.ownerKeyId, endUserId: job.endUserId },
              job.idempotencyKey,
            );
      const usage: AdmissionFacts['usage'] = {};
      for (const { scope, owner, monthlyBudgetMicroUsd } of admissionScopes(request)) {
        usage[scope] = {
          spentMicroUsd: this.#spent(owner, day, day),
          spentThisMonthMicroUsd:
            monthlyBudgetMicroUsd === null ? null : this.#spent(owner, monthStart(day), day),
          jobsInFlight: this.#inFlight(owner),
        };
      }
      const decision = decideAdmission(request, { existing, usage });
      if (decision.kind !== 'created') return decision;

      this.#sql.insertJob.run(records.jobParams(job));
      if (wantsWebhook(job)) this.#enqueueWebhook(job);
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
    return this.#writes.write(() => {
      const before = this.#job(id);
      if (before === null || before.version !== expectedVersion) return null;

      const changes = records.patchParams(patch);
      const params: Record<string, SQLInputValue> = {
        id,
        expectedVersion,
        updatedAt: this.#now(),
        ...Object.fromEntries(changes),
      };
      const set = [
        ...changes.map(([c]) => `${c} = :${c}`),
        'version = version + 1',
        'updated_at = :updatedAt',
      ];
      this.#statement(
        `UPDATE jobs SET ${set.join(', ')} WHERE id = :id AND version = :expectedVersion`,
      ).run(params);

      const after = this.#job(id) as JobRecord;
      if (after.status !== before.status && wantsWebhook(after)) this.#enqueueWebhook(after);
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
    return this.#jobPage(filter, first, 'id DESC', (where) => where('id < :after', { after }));
  }

  async listJobsUpdatedSince(
    filter: JobFilter,
    since: Date,
    first: number,
    after?: Pick<JobRecord, 'id' | 'updatedAt'>,
  ): Promise<JobPage> {
    return this.#jobPage(filter, first, 'updated_at, id', (where) => {
      where('updated_at >= :since', { since: since.getTime() });
      where('(updated_at, id) > (:afterAt, :afterId)', {
        afterAt: after?.updatedAt.getTime(),
        afterId: after?.id,
      });
    });
  }

  /**
   * A page of at most `first` (capped) jobs in `order`: those `filter` matches, narrowed by the
   * conditions `narrow` adds. A condition with an unset value is left out.
   */
  #jobPage(
    filter: JobFilter,
    first: number,
    order: string,
    narrow: (where: SqlCondition) => void,
  ): JobPage {
    const conditions: string[] = [];
    const params: Record<string, SQLInputValue> = {};
    const where: SqlCondition = (condition, values) => {
      if (Object.values(values).some((value) => value === undefined || value === null)) return;
      conditions.push(condition);
      Object.assign(params, values);
    };
    where('owner_key_id = :owner', { owner: filter.ownerKeyId });
    where('end_user_id = :endUser', { endUser: filter.endUserId });
    where('status = :status', { status: filter.status });
    where('model = :model', { model: filter.model });
    for (const [i, word] of searchWords(filter.search ?? '').entries()) {
      if ([...word].length >= TRIGRAM_LENGTH) {
        where(
          `rowid IN (SELECT rowid FROM jobs_prompt_fts WHERE jobs_prompt_fts MATCH :word${i})`,
          {
            [`word${i}`]: `"${word.replaceAll('"', '""')}"`,
          },
        );
      } else {
        where(`prompt_folded LIKE :word${i} ESCAPE '\\'`, { [`word${i}`]: containsPattern(word) });
      }
    }
    narrow(where);

    const limit = pageSize(first, MAX_JOBS_PAGE_SIZE);
    params.limit = limit + 1;
    const whereSql = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = this.#statement(
      `SELECT * FROM jobs ${whereSql} ORDER BY ${order} LIMIT :limit`,
    ).all(params) as unknown as SqliteJobRow[];
    return { jobs: rows.slice(0, limit).map(records.toJob), hasNextPage: rows.length > limit };
  }

  async countPendingJobs(): Promise<number> {
    return (this.#sql.pendingJobCount.get() as { total: number }).total;
  }

  async listPendingJobs(limit: number): Promise<JobRecord[]> {
    return (this.#sql.pendingJobs.all(limit) as unknown as SqliteJobRow[]).map(records.toJob);
  }

  async queuePosition(jobId: string): Promise<number | null> {
    const row = this.#sql.queuePosition.get(jobId) as { position: number } | undefined;
    return row?.position ?? null;
  }

  async claimPendingJobs(claim: DispatchClaim): Promise<JobRecord[]> {
    return this.#writes.write(() => {
      const atPixazo = (this.#sql.atPixazoCount.get() as { total: number }).total;
      const room = Math.min(claim.limit, claim.maxInFlight - atPixazo);
      if (room <= 0) return [];
      const pending = this.#sql.pendingJobs.all(room) as unknown as SqliteJobRow[];
      return pending.map((row) => {
        const claimed = this.#sql.claimJob.get({
          id: row.id,
          instance: claim.instanceId,
          at: this.#now(),
        }) as unknown as SqliteJobRow;
        return records.toJob(claimed);
      });
    });
  }

  async heartbeat(instanceId: string): Promise<void> {
    await this.#writes.write(() => this.#sql.heartbeat.run({ id: instanceId, at: this.#now() }));
  }

  async removeInstance(instanceId: string): Promise<void> {
    await this.#writes.write(() => this.#sql.removeInstance.run(instanceId));
  }

  async adoptJobs(adoption: Adoption): Promise<JobRecord[]> {
    const rows = (await this.#writes.write(() =>
      this.#sql.adoptJobs.all({
        instance: adoption.instanceId,
        at: this.#now(),
        staleAfterMs: adoption.staleAfterMs,
        submittingStaleAfterMs: adoption.submittingStaleAfterMs,
      }),
    )) as unknown as SqliteJobRow[];
    return rows.map(records.toJob).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async usage(owner: Owner, day: string): Promise<Usage> {
    return {
      spentMicroUsd: this.#spent(owner, day, day),
      spentThisMonthMicroUsd: this.#spent(owner, monthStart(day), day),
      jobsInFlight: this.#inFlight(owner),
    };
  }

  async keySpending(keyIds: readonly string[], day: string): Promise<Map<string, KeySpending>> {
    return new Map(
      keyIds.map((keyId) => {
        const owner = { keyId, endUserId: null };
        const todayMicroUsd = this.#spent(owner, day, day);
        return [
          keyId,
          { todayMicroUsd, thisMonthMicroUsd: this.#spent(owner, monthStart(day), day) },
        ];
      }),
    );
  }

  async usageReport(query: UsageQuery): Promise<UsageReportRow[]> {
    const sql = sqliteParams(usageReportSql(query.groupBy, (column) => column));
    const rows = this.#statement(sql).all(query.from, query.to, query.maxRows + 1);
    return (rows as unknown as UsageReportSqlRow[]).map(records.toUsageRow);
  }

  async readUpstream(): Promise<UpstreamRecord | null> {
    const row = this.#sql.upstream_read.get() as UpstreamRow<number> | undefined;
    return row === undefined ? null : records.toUpstream(row);
  }

  async recordUpstreamCondition(condition: UpstreamCondition, at: Date, until: Date) {
    await this.#writes.write(() =>
      this.#sql.upstream_record.run(condition, at.getTime(), until.getTime()),
    );
  }

  async listJobsWithImagesEndedBefore(endedBefore: Date, limit: number): Promise<JobRecord[]> {
    const rows = this.#sql.imagesKept.all(
      endedBefore.getTime(),
      limit,
    ) as unknown as SqliteJobRow[];
    return rows.map(records.toJob);
  }

  async markImagesExpired(jobId: string, at: Date): Promise<boolean> {
    return this.#writes.write(
      () => this.#sql.retention_markExpired.get(jobId, at.getTime()) !== undefined,
    );
  }

  async takeLease(name: string, holder: string, at: Date, until: Date): Promise<boolean> {
    return this.#writes.write(
      () =>
        this.#sql.retention_takeLease.get(name, holder, at.getTime(), until.getTime()) !==
        undefined,
    );
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#writes.write(() => this.#sql.retention_releaseLease.run(name, holder));
  }

  async takeUpstreamProbe(instanceId: string, at: Date): Promise<boolean> {
    return this.#writes.write(
      () => this.#sql.upstream_takeProbe.get(instanceId, at.getTime()) !== undefined,
    );
  }

  async releaseUpstreamProbe(instanceId: string): Promise<void> {
    await this.#writes.write(() => this.#sql.upstream_releaseProbe.run(instanceId));
  }

  async clearUpstreamCondition(instanceId: string): Promise<boolean> {
    return this.#writes.write(() => this.#sql.upstream_clear.get(instanceId) !== undefined);
  }

  async claimWebhookDeliveries(claim: WebhookClaim): Promise<WebhookDelivery[]> {
    return this.#writes.write(() => {
      const rows = this.#sql.claimWebhooks.all(
        claim.instanceId,
        claim.at.getTime(),
        claim.limit,
        claim.perReceiver,
        claim.leaseUntil.getTime(),
      ) as unknown as WebhookDeliveryRow<number, string>[];
      return rows
        .map((row) => records.toWebhookDelivery(row, readJobSnapshot))
        .sort(oldestDeliveryFirst);
    });
  }

  async recordWebhookAttempt(result: WebhookAttemptResult): Promise<boolean> {
    const nextAttemptAt = result.nextAttemptAt?.getTime() ?? null;
    return this.#writes.write(() => {
      const row = this.#sql.finishAttempt.get(
        result.deliveryId,
        result.instanceId,
        nextAttemptAt,
      ) as { attempts: number } | undefined;
      if (row === undefined) return false;
      this.#sql.insertAttempt.run(
        result.deliveryId,
        row.attempts,
        result.at.getTime(),
        result.statusCode,
        result.error,
        nextAttemptAt,
      );
      return true;
    });
  }

  async listWebhookAttempts(jobId: string): Promise<WebhookAttempt[]> {
    const rows = this.#sql.listAttempts.all(jobId) as unknown as WebhookAttemptRow<number>[];
    return rows.map(records.toWebhookAttempt);
  }

  async countWebhookDeliveriesQueued(): Promise<number> {
    return (this.#sql.webhookQueueDepth.get() as { total: number }).total;
  }

  async webhookSecret(keyId: string): Promise<string | null> {
    const row = this.#sql.readSecret.get(keyId) as { webhook_secret: string | null } | undefined;
    return row?.webhook_secret ?? null;
  }

  async setWebhookSecret(keyId: string, sealed: string, replace: boolean): Promise<string | null> {
    const statement = replace ? this.#sql.replaceSecret : this.#sql.keepSecret;
    const row = (await this.#writes.write(() => statement.get(keyId, sealed))) as
      | { webhook_secret: string }
      | undefined;
    return row?.webhook_secret ?? null;
  }

  async createApiKey(key: ApiKeyRecord, audit?: AuditRecord): Promise<void> {
    await this.#writes.write(() => {
      this.#sql.insertKey.run(records.apiKeyParams(key));
      if (audit !== undefined) this.#sql.insertAudit.run(...records.auditParams(audit));
    });
  }

  async createApiKeyIfAbsent(key: ApiKeyRecord): Promise<{ created: boolean; key: ApiKeyRecord }> {
    // One statement: atomic against another connection's insert of the same secret.
    const created = await this.#writes.write(
      () => this.#sql.insertKeyIfAbsent.run(records.apiKeyParams(key)).changes > 0,
    );
    const stored = this.#sql.keyBySecretHash.get(key.secretHash) as unknown as SqliteApiKeyRow;
    return { created, key: records.toApiKey(stored) };
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const row = this.#sql.keyById.get(id) as SqliteApiKeyRow | undefined;
    return row ? records.toApiKey(row) : null;
  }

  async getApiKeyBySecretHash(secretHash: string): Promise<ApiKeyRecord | null> {
    const row = this.#sql.keyBySecretHash.get(secretHash) as SqliteApiKeyRow | undefined;
    return row ? records.toApiKey(row) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (this.#sql.allKeys.all() as unknown as SqliteApiKeyRow[]).map(records.toApiKey);
  }

  async getApiKeys(ids: readonly string[]): Promise<ApiKeyRecord[]> {
    return ids.flatMap((id) => {
      const row = this.#sql.keyById.get(id) as SqliteApiKeyRow | undefined;
      return row ? [records.toApiKey(row)] : [];
    });
  }

  async listApiKeyPage(options: {
    first: number;
    after?: string | undefined;
    includeRevoked: boolean;
  }): Promise<ApiKeyPage> {
    const limit = pageSize(options.first, MAX_ADMIN_PAGE_SIZE);
    const rows = this.#sql.keyPage.all({
      after: options.after ?? null,
      includeRevoked: options.includeRevoked ? 1 : 0,
      limit: limit + 1,
    }) as unknown as SqliteApiKeyRow[];
    return { keys: rows.slice(0, limit).map(records.toApiKey), hasNextPage: rows.length > limit };
  }

  async updateApiKeyLimits(
    id: string,
    patch: LimitsPatch,
    audit: AuditDraft,
  ): Promise<ApiKeyRecord | null> {
    return this.#writes.write(() => {
      const row = this.#sql.keyById.get(id) as SqliteApiKeyRow | undefined;
      if (row === undefined) return null;
      const before = records.toApiKey(row);
      const after = { ...before, ...patchedLimits(before, patch) };
      this.#sql.updateKeyLimits.run(id, ...records.apiKeyLimitParams(after));
      const details = limitsChange(flatLimits(before), flatLimits(after));
      this.#sql.insertAudit.run(...records.auditParams({ ...audit, details }));
      return after;
    });
  }

  async revokeApiKey(id: string, audit?: AuditRecord): Promise<boolean> {
    return this.#writes.write(() => {
      const revoked = this.#sql.revokeKey.run(this.#now(), id).changes > 0;
      if (revoked && audit !== undefined) this.#sql.insertAudit.run(...records.auditParams(audit));
      return revoked;
    });
  }

  async recordApiKeyUse(id: string, at: Date, throttleMs: number): Promise<void> {
    await this.#writes.write(() =>
      this.#sql.recordKeyUse.run({ id, at: at.getTime(), throttleMs }),
    );
  }

  async listAuditLog(first: number, after?: string): Promise<AuditPage> {
    const limit = pageSize(first, MAX_ADMIN_PAGE_SIZE);
    const rows = this.#sql.auditPage.all({
      after: after ?? null,
      limit: limit + 1,
    }) as unknown as AuditRow<number, string>[];
    return { entries: rows.slice(0, limit).map(records.toAudit), hasNextPage: rows.length > limit };
  }

  async ping(): Promise<boolean> {
    try {
      return this.#sql.ping.get() !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.#db.isOpen) return;
    this.#writes.flush();
    this.#db.close();
  }

  /** The job, as it is now, into the outbox (inside the caller's transaction). */
  #enqueueWebhook(job: JobRecord): void {
    this.#sql.insertDelivery.run({
      id: newId('msg'),
      jobId: job.id,
      keyId: job.ownerKeyId,
      event: job.status,
      url: job.webhookUrl,
      job: JSON.stringify(records.jobParams(job)),
      createdAt: job.updatedAt.getTime(),
      dueAt: this.#now(),
    });
  }

  #job(id: string): JobRecord | null {
    const row = this.#sql.jobById.get(id) as SqliteJobRow | undefined;
    return row ? records.toJob(row) : null;
  }

  #jobByIdempotencyKey(owner: Owner, idempotencyKey: string): JobRecord | null {
    const row = this.#sql.jobByIdempotencyKey.get({
      owner: owner.keyId,
      endUser: owner.endUserId,
      idempotencyKey,
    }) as SqliteJobRow | undefined;
    return row ? records.toJob(row) : null;
  }

  /** What `owner` spent from `since` to `day`, both included. */
  #spent(owner: Owner, since: string, day: string): number {
    const period = { owner: owner.keyId, since, day };
    const row =
      owner.endUserId === null
        ? this.#sql.keySpent.get(period)
        : this.#sql.endUserSpent.get({ ...period, endUser: owner.endUserId });
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

/**
 * The scale-out Store: PostgreSQL through node-postgres (`pg`), shared by every gateway
 * instance. Each method is one statement or one short transaction on a pooled connection, its
 * statements named (prepared once per connection); the writes on every job's path (admission,
 * job updates, claims) share one transaction with the others of their turn of the event loop
 * (postgres-group-commit.ts). What must hold across instances is the database's to hold:
 * - admission locks what it reads (the key row, then the end user) before reading, so budgets
 *   and concurrency caps stay exact however many instances admit at once;
 * - every compare-and-set, with its ledger row, is one statement;
 * - migrations run in one transaction under an advisory lock, so instances starting together
 *   on an empty database migrate it once.
 */
import {
  Pool,
  type PoolClient,
  type QueryConfig,
  type QueryResultRow,
  TypeOverrides,
  types,
} from 'pg';
import {
  type AdmissionFacts,
  type AdmissionRequest,
  type AdmissionResult,
  type AdmissionScope,
  admissionScopes,
  decideAdmission,
  monthStart,
  type Owner,
  type ScopeUsage,
  type Usage,
} from '../domain/admission.ts';
import type { AuditDraft, AuditRecord } from '../domain/audit.ts';
import type { JobRecord } from '../domain/job.ts';
import { flatLimits, type LimitsPatch, limitsChange, patchedLimits } from '../domain/key-limits.ts';
import type { ApiKeyRecord } from '../domain/principal.ts';
import type { UpstreamCondition } from '../domain/upstream.ts';
import type { WebhookAttempt, WebhookDelivery } from '../domain/webhook.ts';
import { newId } from '../ids.ts';
import { assertKnownSchemaVersion } from './migrations/migration.ts';
import { POSTGRES_MIGRATIONS } from './migrations/postgres.ts';
import { inTransaction, send } from './postgres-connection.ts';
import { PostgresGroupCommit } from './postgres-group-commit.ts';
import {
  API_KEY_COLUMNS,
  API_KEY_LIMIT_COLUMNS,
  type ApiKeyRow,
  AT_PIXAZO_SQL,
  AUDIT_COLUMNS,
  type AuditRow,
  IMAGES_KEPT_SQL,
  IN_FLIGHT_SQL,
  JOB_COLUMNS,
  type JobRow,
  oldestDeliveryFirst,
  PENDING_SQL,
  RETENTION_SQL,
  searchWords,
  sqlRecords,
  UPSTREAM_SQL,
  type UpstreamRow,
  type UsageReportSqlRow,
  usageReportSql,
  WEBHOOK_DELIVERY_COLUMNS,
  WEBHOOK_SQL,
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
} from './sql.ts';
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

/**
 * Connections per instance. Admission holds one for a few milliseconds, so a few serve many
 * requests; N instances need N × this within the server's max_connections (default 100).
 */
const POOL_SIZE = 10;
/** Write groups out at once (postgres-group-commit.ts): the rest of the pool serves reads. */
const MAX_GROUPS_IN_FLIGHT = POOL_SIZE / 2;
/** How long a query waits for a free connection (or a new one) before failing. */
const CONNECT_TIMEOUT_MS = 10_000;
/** /readyz answers within this: a database that stopped answering is down, not slow. */
const PING_TIMEOUT_MS = 2000;
/**
 * The server ends a transaction left idle this long (its instance hung or lost the network),
 * so the locks it holds (a key's admission lock) do not stall the other instances for longer.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * Advisory locks are (class, id) pairs of int4; the class is "zimg" in ASCII so that other
 * applications sharing the database do not collide with ours. Fixed-purpose locks use class
 * GATEWAY_LOCK_CLASS with an id of GATEWAY_LOCKS; per-end-user admission locks their own class
 * with a hash of (key, end user) as id (a collision only makes two end users take turns).
 */
const GATEWAY_LOCK_CLASS = 0x7a696d67;
const GATEWAY_LOCKS = { migrations: 1, dispatch: 2 } as const;
const END_USER_LOCK_CLASS = GATEWAY_LOCK_CLASS + 1;

/** BIGINT (money, counts) as a JS number, refusing one that a double cannot hold exactly. */
function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} exceeds 2^53`);
  return value;
}

const pgTypes = new TypeOverrides();
pgTypes.setTypeParser(types.builtins.INT8, parseSafeInteger);

type PgJobRow = JobRow<Date, boolean, unknown[]>;
type PgApiKeyRow = ApiKeyRow<Date, unknown[]>;

/** Times are timestamptz (Date both ways), booleans boolean, lists jsonb (written as JSON). */
const pgCodec = {
  readTime: (date: Date) => date,
  writeTime: (date: Date) => date,
  readFlag: (flag: boolean) => flag,
  writeFlag: (value: boolean) => value,
  readList: (list: unknown[]) => list,
  writeList: (list: readonly unknown[]) => JSON.stringify(list),
  readJson: (value: unknown) => value,
  writeJson: (value: unknown) => JSON.stringify(value),
};
const records = sqlRecords<Date, boolean, unknown[], unknown>(pgCodec);

/**
 * An outbox job snapshot is its row as jsonb (to_jsonb), where times are ISO text: read with
 * the same mapping, times parsed.
 */
const snapshotRecords = sqlRecords<string, boolean, unknown[], unknown>({
  ...pgCodec,
  readTime: (text) => new Date(text),
  writeTime: (date) => date.toISOString(),
});
const readJobSnapshot = (snapshot: unknown): JobRecord =>
  snapshotRecords.toJob(snapshot as JobRow<string, boolean, unknown[]>);

/**
 * Into the outbox, from the CTE `source` holding the job's new row: when the job has a webhook
 * URL and wants the status `status` (SQL) it is in. `$id` and `$at` are parameters.
 */
const enqueueWebhook = (source: string, status: string, id: string, at: string) => `
  INSERT INTO webhook_deliveries (id, job_id, key_id, event, url, job, created_at, next_attempt_at)
  SELECT ${id}, ${source}.id, ${source}.owner_key_id, ${source}.status, ${source}.webhook_url,
    to_jsonb(${source}), ${source}.updated_at, ${at}
  FROM ${source}
  WHERE ${source}.webhook_url IS NOT NULL AND ${status} AND ${source}.webhook_events ? ${source}.status
  ON CONFLICT (job_id, event) DO NOTHING`;

/** A statement's text and its positional values, built together so the numbers match. */
/** Adds the condition `build` makes of the parameters for `values`, unless one is unset. */
type PgCondition = (values: unknown[], build: (...params: string[]) => string) => void;

class Statement {
  readonly values: unknown[] = [];
  text = '';

  /** `$n` for `value`. */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Opens a pool on `url` (postgres://…) and applies pending migrations. */
export async function openPostgresStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const now = options.now ?? (() => new Date());
  const pool = new Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    application_name: 'zimage-gateway',
    types: pgTypes,
    // Queries given at once go out at once (admission sends its statements in two flights);
    // awaited one by one, they behave as without.
    pipeline: true,
  });
  // An idle connection that breaks (the server restarted, a network blip) is dropped by the
  // pool and replaced on next use; without a listener its 'error' would end the process.
  pool.on('error', () => {});
  try {
    await migrate(pool, now);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresStore(pool, now);
}

async function migrate(pool: Pool, now: () => Date): Promise<void> {
  await inTransaction(pool, async (client) => {
    // Held to commit: an instance starting meanwhile waits here, then finds nothing to do.
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [
      GATEWAY_LOCK_CLASS,
      GATEWAY_LOCKS.migrations,
    ]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL
    )`);
    const { rows } = await client.query<{ version: number }>(
      'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
    );
    const applied = rows[0]?.version ?? 0;
    assertKnownSchemaVersion(applied, POSTGRES_MIGRATIONS.length);
    for (const [index, migration] of POSTGRES_MIGRATIONS.entries()) {
      const version = index + 1;
      if (version <= applied) continue;
      await client.query(migration.sql);
      await client.query(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [version, migration.name, now()],
      );
    }
  });
}

/** `$1, $2, …, $count`. */
const placeholders = (count: number): string =>
  Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ');

const INSERT_KEY = `INSERT INTO api_keys (${API_KEY_COLUMNS.join(', ')})
  VALUES (${placeholders(API_KEY_COLUMNS.length)})`;
const INSERT_KEY_IF_ABSENT = `${INSERT_KEY} ON CONFLICT (secret_hash) DO NOTHING RETURNING id`;
const INSERT_AUDIT = `INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')})
  VALUES (${placeholders(AUDIT_COLUMNS.length)})`;
const UPDATE_KEY_LIMITS = `UPDATE api_keys
  SET ${API_KEY_LIMIT_COLUMNS.map((column, i) => `${column} = $${i + 2}`).join(', ')}
  WHERE id = $1`;

/**
 * The columns a statement returns are named, never `*`: a prepared statement whose result
 * would change shape fails, and a newer instance may add columns while older ones still run.
 */
const columnsOf = (columns: readonly string[], table?: string): string =>
  columns.map((column) => (table === undefined ? column : `${table}.${column}`)).join(', ');
const JOB_SELECT = columnsOf(JOB_COLUMNS);
const API_KEY_SELECT = columnsOf(API_KEY_COLUMNS);
const AUDIT_SELECT = columnsOf(AUDIT_COLUMNS);

/** The job of `owner` with the idempotency key in `$3`, matched as the unique index does. */
const JOB_BY_IDEMPOTENCY_KEY = `
  SELECT ${JOB_SELECT} FROM jobs
  WHERE owner_key_id = $1 AND coalesce(end_user_id, '') = coalesce($2, '') AND idempotency_key = $3`;

/**
 * Claims under the dispatch lock: every claim counts the jobs at Pixazo after the previous
 * claim committed, so the cap is exact across instances (row locks alone let each of two
 * claims count the other's rows as still pending). SKIP LOCKED passes over a pending job a
 * cancel holds; the update re-checks it is still pending.
 */
const CLAIM_PENDING_JOBS = `
  WITH room AS (
    SELECT greatest(0, least($2::int, $3::int - count(*)))::int AS n FROM jobs WHERE ${AT_PIXAZO_SQL}
  ), picked AS (
    SELECT id FROM jobs WHERE ${PENDING_SQL} ORDER BY id
    LIMIT (SELECT n FROM room) FOR UPDATE SKIP LOCKED
  )
  UPDATE jobs SET submission = 'submitting', owner_instance = $1, version = jobs.version + 1,
    updated_at = $4
  FROM picked WHERE jobs.id = picked.id AND ${PENDING_SQL}
  RETURNING ${columnsOf(JOB_COLUMNS, 'jobs')}`;

/**
 * What a write holds from the start of its group's transaction to its commit (#lockQueries):
 * an owner's admission lock (the key as a whole when its end user is null), or the dispatch
 * lock of claims.
 */
type WriteLock = Owner | 'dispatch';

/**
 * The admission locks of the keys: their rows FOR NO KEY UPDATE (exclusive among admissions,
 * yet no obstacle to the foreign-key checks of inserts that reference a key), locked in the
 * order of the sort.
 */
const LOCK_KEYS = 'SELECT 1 FROM api_keys WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE';
/**
 * The admission locks of end users: advisory locks on a hash of (key, end user), taken in the
 * order of the hashes (a volatile function of the output runs after the sort), each once.
 */
const LOCK_END_USERS = `SELECT pg_advisory_xact_lock(${END_USER_LOCK_CLASS}, lock_id)
  FROM (SELECT DISTINCT hashtext(key_id || '/' || end_user_id) AS lock_id
    FROM unnest($1::text[], $2::text[]) AS owner (key_id, end_user_id)) AS locks
  ORDER BY lock_id`;
const LOCK_DISPATCH = `SELECT pg_advisory_xact_lock(${GATEWAY_LOCK_CLASS}, ${GATEWAY_LOCKS.dispatch})`;

/**
 * A job whose owner has no fresh heartbeat (database clock) goes to the adopter; the row lock
 * makes concurrent adopters take disjoint jobs, and the update re-checks the owner.
 */
const ADOPT_JOBS = `
  WITH orphaned AS (
    SELECT job.id FROM jobs AS job
    WHERE ${AT_PIXAZO_SQL}
      AND job.owner_instance IS DISTINCT FROM $1
      AND NOT EXISTS (SELECT 1 FROM instances WHERE instances.id = job.owner_instance
        AND instances.heartbeat_at > now() - make_interval(secs => CASE job.submission
          WHEN 'submitting' THEN $3::float8 ELSE $2::float8 END / 1000))
    FOR UPDATE SKIP LOCKED
  )
  UPDATE jobs SET owner_instance = $1 FROM orphaned WHERE jobs.id = orphaned.id
  RETURNING ${columnsOf(JOB_COLUMNS, 'jobs')}`;

/**
 * The chosen deliveries are locked, re-checked (a lease another worker committed meanwhile is
 * seen) and skipped when another claim holds them: each delivery has one sender at a time.
 */
const CLAIM_WEBHOOK_DELIVERIES = `${WEBHOOK_SQL.claimChosen}, locked AS (
    SELECT delivery.id FROM webhook_deliveries AS delivery JOIN chosen ON chosen.id = delivery.id
    WHERE delivery.next_attempt_at <= $2
      AND (delivery.lease_until IS NULL OR delivery.lease_until <= $2)
    FOR UPDATE OF delivery SKIP LOCKED
  )
  UPDATE webhook_deliveries AS delivery SET lease_owner = $1, lease_until = $5
  FROM locked WHERE delivery.id = locked.id
  RETURNING ${columnsOf(WEBHOOK_DELIVERY_COLUMNS, 'delivery')}`;

const byId = (a: JobRecord, b: JobRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

class PostgresStore implements Store {
  readonly singleProcess = false;
  readonly groupCommit = false;
  readonly #pool: Pool;
  readonly #now: () => Date;
  /** Statement names by text: node-postgres prepares a named statement once per connection. */
  readonly #names = new Map<string, string>();
  /** Admissions, job updates and claims: the writes on the path of every job. */
  readonly #writes: PostgresGroupCommit<WriteLock>;

  constructor(pool: Pool, now: () => Date) {
    this.#pool = pool;
    this.#now = now;
    this.#writes = new PostgresGroupCommit(pool, {
      lockQueries: (locks) => this.#lockQueries(locks),
      maxGroupsInFlight: MAX_GROUPS_IN_FLIGHT,
    });
  }

  async admitJob(request: AdmissionRequest): Promise<AdmissionResult> {
    const scopes = admissionScopes(request);
    const admit = this.#admissionQuery(request, scopes);
    const locks = scopes.map(({ scope, owner }) =>
      scope === 'key' ? { keyId: owner.keyId, endUserId: null } : owner,
    );
    // Each statement of a READ COMMITTED transaction sees what was committed before it began
    // and what its own transaction wrote, so the admission counts every admission that held
    // these locks earlier, those of its own group included.
    const [row] = (await this.#writes.write({ locks, statement: admit })).rows;
    if (row?.admitted === 1) return { kind: 'created', job: request.job };
    const known = readFacts(row, scopes);
    const decision = decideAdmission(request, known);
    if (decision.kind !== 'created') return decision;
    // Within its limits, yet not inserted: the idempotency key's index refused the job, as an
    // admission that no lock serialized with this one (no limit applies) committed the same
    // key first. Answer with its job.
    const { job } = request;
    const existing = await this.findJobByIdempotencyKey(
      { keyId: job.ownerKeyId, endUserId: job.endUserId },
      job.idempotencyKey as string,
    );
    return decideAdmission(request, { ...known, existing });
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const [row] = await this.#rows<PgJobRow>(
      this.#pool,
      `SELECT ${JOB_SELECT} FROM jobs WHERE id = $1`,
      [id],
    );
    return row ? records.toJob(row) : null;
  }

  async findJobByIdempotencyKey(owner: Owner, idempotencyKey: string): Promise<JobRecord | null> {
    return this.#jobByIdempotencyKey(this.#pool, owner, idempotencyKey);
  }

  async updateJob(id: string, expectedVersion: number, patch: JobPatch): Promise<JobRecord | null> {
    const statement = new Statement();
    const idParam = statement.param(id);
    const versionParam = statement.param(expectedVersion);
    const at = statement.param(this.#now());
    const messageId = statement.param(newId('msg'));
    const set = [
      ...records
        .patchParams(patch)
        .map(([column, value]) => `${column} = ${statement.param(value)}`),
      'version = job.version + 1',
      `updated_at = ${at}`,
    ];
    // One statement, so atomic: the update wins only on the expected version (a concurrent
    // writer's commit makes it re-check and miss), and a cost change books its difference
    // against the job's charge (same key, end user and day) in the same breath.
    statement.text = `
      WITH updated AS (
        UPDATE jobs AS job SET ${set.join(', ')}
        FROM jobs AS before
        WHERE job.id = ${idParam} AND job.version = ${versionParam} AND before.id = job.id
        RETURNING ${columnsOf(JOB_COLUMNS, 'job')}, before.cost_micro_usd AS previous_cost_micro_usd,
          before.status AS previous_status
      ), outbox AS (${enqueueWebhook('updated', 'updated.status <> updated.previous_status', messageId, at)}
      ), adjustment AS (
        INSERT INTO usage_ledger (job_id, key_id, end_user_id, day, micro_usd, reason, at)
        SELECT charge.job_id, charge.key_id, charge.end_user_id, charge.day,
          updated.cost_micro_usd - updated.previous_cost_micro_usd,
          CASE WHEN updated.cost_micro_usd < updated.previous_cost_micro_usd
            THEN 'refund' ELSE 'charge' END,
          ${at}
        FROM updated CROSS JOIN LATERAL (
          SELECT job_id, key_id, end_user_id, day FROM usage_ledger
          WHERE job_id = updated.id AND reason = 'charge' ORDER BY id LIMIT 1
        ) AS charge
        WHERE updated.cost_micro_usd <> updated.previous_cost_micro_usd
      )
      SELECT ${JOB_SELECT} FROM updated`;
    const [row] = (
      await this.#writes.write({
        locks: [],
        statement: this.#query(statement.text, statement.values),
      })
    ).rows as PgJobRow[];
    return row ? records.toJob(row) : null;
  }

  async listJobs(filter: JobFilter, first: number, after?: string): Promise<JobPage> {
    return this.#jobPage(filter, first, 'id DESC', (where) => where([after], (p) => `id < ${p}`));
  }

  async listJobsUpdatedSince(
    filter: JobFilter,
    since: Date,
    first: number,
    after?: Pick<JobRecord, 'id' | 'updatedAt'>,
  ): Promise<JobPage> {
    return this.#jobPage(filter, first, 'updated_at, id', (where) => {
      where([since], (p) => `updated_at >= ${p}`);
      where([after?.updatedAt, after?.id], (at, id) => `(updated_at, id) > (${at}, ${id})`);
    });
  }

  /**
   * A page of at most `first` (capped) jobs in `order`: those `filter` matches, narrowed by the
   * conditions `narrow` adds. A condition with an unset value is left out.
   */
  async #jobPage(
    filter: JobFilter,
    first: number,
    order: string,
    narrow: (where: PgCondition) => void,
  ): Promise<JobPage> {
    const statement = new Statement();
    const conditions: string[] = [];
    const where: PgCondition = (values, condition) => {
      if (values.some((value) => value === undefined || value === null)) return;
      conditions.push(condition(...values.map((value) => statement.param(value))));
    };
    where([filter.ownerKeyId], (p) => `owner_key_id = ${p}`);
    where([filter.endUserId], (p) => `end_user_id = ${p}`);
    where([filter.status], (p) => `status = ${p}`);
    where([filter.model], (p) => `model = ${p}`);
    // Every word, by the pg_trgm index; nothing in a word is a wildcard (escaped).
    for (const word of searchWords(filter.search ?? '')) {
      const pattern = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where([pattern], (p) => `prompt_folded LIKE ${p}`);
    }
    narrow(where);

    const limit = pageSize(first, MAX_JOBS_PAGE_SIZE);
    const whereSql = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    statement.text = `SELECT ${JOB_SELECT} FROM jobs ${whereSql} ORDER BY ${order} LIMIT ${statement.param(limit + 1)}`;
    const rows = await this.#rows<PgJobRow>(this.#pool, statement.text, statement.values);
    return { jobs: rows.slice(0, limit).map(records.toJob), hasNextPage: rows.length > limit };
  }

  async countPendingJobs(): Promise<number> {
    const [row] = await this.#rows<{ total: number }>(
      this.#pool,
      `SELECT count(*) AS total FROM jobs WHERE status = 'QUEUED' AND submission = 'pending'`,
      [],
    );
    return row?.total ?? 0;
  }

  async listPendingJobs(limit: number): Promise<JobRecord[]> {
    const rows = await this.#rows<PgJobRow>(
      this.#pool,
      `SELECT ${JOB_SELECT} FROM jobs WHERE ${PENDING_SQL} ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map(records.toJob);
  }

  async queuePosition(jobId: string): Promise<number | null> {
    const [row] = await this.#rows<{ position: number }>(
      this.#pool,
      `SELECT (SELECT count(*) FROM jobs WHERE ${PENDING_SQL} AND id <= job.id) AS position
       FROM jobs AS job WHERE job.id = $1 AND job.status = 'QUEUED' AND job.submission = 'pending'`,
      [jobId],
    );
    return row?.position ?? null;
  }

  async claimPendingJobs(claim: DispatchClaim): Promise<JobRecord[]> {
    const { rows } = await this.#writes.write({
      locks: ['dispatch'],
      statement: this.#query(CLAIM_PENDING_JOBS, [
        claim.instanceId,
        claim.limit,
        claim.maxInFlight,
        this.#now(),
      ]),
    });
    return (rows as PgJobRow[]).map(records.toJob).sort(byId);
  }

  async heartbeat(instanceId: string): Promise<void> {
    await this.#rows(
      this.#pool,
      `INSERT INTO instances (id, heartbeat_at) VALUES ($1, now())
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
      [instanceId],
    );
  }

  async removeInstance(instanceId: string): Promise<void> {
    await this.#rows(this.#pool, 'DELETE FROM instances WHERE id = $1', [instanceId]);
  }

  async adoptJobs(adoption: Adoption): Promise<JobRecord[]> {
    const rows = await this.#rows<PgJobRow>(this.#pool, ADOPT_JOBS, [
      adoption.instanceId,
      adoption.staleAfterMs,
      adoption.submittingStaleAfterMs,
    ]);
    return rows.map(records.toJob).sort(byId);
  }

  async readUpstream(): Promise<UpstreamRecord | null> {
    const [row] = await this.#rows<UpstreamRow<Date>>(this.#pool, UPSTREAM_SQL.read, []);
    return row === undefined ? null : records.toUpstream(row);
  }

  async recordUpstreamCondition(condition: UpstreamCondition, at: Date, until: Date) {
    await this.#rows(this.#pool, UPSTREAM_SQL.record, [condition, at, until]);
  }

  async listJobsWithImagesEndedBefore(endedBefore: Date, limit: number): Promise<JobRecord[]> {
    const rows = await this.#rows<PgJobRow>(
      this.#pool,
      `SELECT ${JOB_SELECT} FROM jobs WHERE ${IMAGES_KEPT_SQL} ORDER BY completed_at LIMIT $2`,
      [endedBefore, limit],
    );
    return rows.map(records.toJob);
  }

  async markImagesExpired(jobId: string, at: Date): Promise<boolean> {
    return (await this.#rows(this.#pool, RETENTION_SQL.markExpired, [jobId, at])).length > 0;
  }

  async takeLease(name: string, holder: string, at: Date, until: Date): Promise<boolean> {
    const taken = await this.#rows(this.#pool, RETENTION_SQL.takeLease, [name, holder, at, until]);
    return taken.length > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#rows(this.#pool, RETENTION_SQL.releaseLease, [name, holder]);
  }

  async takeUpstreamProbe(instanceId: string, at: Date): Promise<boolean> {
    return (await this.#rows(this.#pool, UPSTREAM_SQL.takeProbe, [instanceId, at])).length > 0;
  }

  async releaseUpstreamProbe(instanceId: string): Promise<void> {
    await this.#rows(this.#pool, UPSTREAM_SQL.releaseProbe, [instanceId]);
  }

  async clearUpstreamCondition(instanceId: string): Promise<boolean> {
    return (await this.#rows(this.#pool, UPSTREAM_SQL.clear, [instanceId])).length > 0;
  }

  async claimWebhookDeliveries(claim: WebhookClaim): Promise<WebhookDelivery[]> {
    const rows = await this.#rows<WebhookDeliveryRow<Date, unknown>>(
      this.#pool,
      CLAIM_WEBHOOK_DELIVERIES,
      [claim.instanceId, claim.at, claim.limit, claim.perReceiver, claim.leaseUntil],
    );
    return rows
      .map((row) => records.toWebhookDelivery(row, readJobSnapshot))
      .sort(oldestDeliveryFirst);
  }

  async recordWebhookAttempt(result: WebhookAttemptResult): Promise<boolean> {
    return inTransaction(this.#pool, async (client) => {
      const [row] = await this.#rows<{ attempts: number }>(client, WEBHOOK_SQL.finishAttempt, [
        result.deliveryId,
        result.instanceId,
        result.nextAttemptAt,
      ]);
      if (row === undefined) return false;
      await this.#rows(client, WEBHOOK_SQL.insertAttempt, [
        result.deliveryId,
        row.attempts,
        result.at,
        result.statusCode,
        result.error,
        result.nextAttemptAt,
      ]);
      return true;
    });
  }

  async listWebhookAttempts(jobId: string): Promise<WebhookAttempt[]> {
    const rows = await this.#rows<WebhookAttemptRow<Date>>(this.#pool, WEBHOOK_SQL.listAttempts, [
      jobId,
    ]);
    return rows.map(records.toWebhookAttempt);
  }

  async countWebhookDeliveriesQueued(): Promise<number> {
    const [row] = await this.#rows<{ total: number }>(this.#pool, WEBHOOK_SQL.queueDepth, []);
    return row?.total ?? 0;
  }

  async webhookSecret(keyId: string): Promise<string | null> {
    const [row] = await this.#rows<{ webhook_secret: string | null }>(
      this.#pool,
      WEBHOOK_SQL.readSecret,
      [keyId],
    );
    return row?.webhook_secret ?? null;
  }

  async setWebhookSecret(keyId: string, sealed: string, replace: boolean): Promise<string | null> {
    const [row] = await this.#rows<{ webhook_secret: string }>(
      this.#pool,
      replace ? WEBHOOK_SQL.replaceSecret : WEBHOOK_SQL.keepSecret,
      [keyId, sealed],
    );
    return row?.webhook_secret ?? null;
  }

  async usage(owner: Owner, day: string): Promise<Usage> {
    const statement = new Statement();
    statement.text = `SELECT ${usageColumns(statement, owner, day, 'usage', true)}`;
    const [row] = await this.#rows(this.#pool, statement.text, statement.values);
    return { ...readUsage(row, 'usage'), spentThisMonthMicroUsd: row?.usage_month as number };
  }

  async keySpending(keyIds: readonly string[], day: string): Promise<Map<string, KeySpending>> {
    const rows = await this.#rows<{ key_id: string; today: number; month: number }>(
      this.#pool,
      `SELECT key_id, coalesce(sum(micro_usd) FILTER (WHERE day = $2), 0)::bigint AS today,
         coalesce(sum(micro_usd), 0)::bigint AS month
       FROM usage_ledger WHERE key_id = ANY($1) AND day >= $3 AND day <= $2 GROUP BY key_id`,
      [[...keyIds], day, monthStart(day)],
    );
    const spending = new Map<string, KeySpending>(
      keyIds.map((id) => [id, { todayMicroUsd: 0, thisMonthMicroUsd: 0 }]),
    );
    for (const row of rows) {
      spending.set(row.key_id, { todayMicroUsd: row.today, thisMonthMicroUsd: row.month });
    }
    return spending;
  }

  async usageReport(query: UsageQuery): Promise<UsageReportRow[]> {
    const rows = await this.#rows<UsageReportSqlRow>(
      this.#pool,
      usageReportSql(query.groupBy, (column) => `${column}::text`),
      [query.from, query.to, query.maxRows + 1],
    );
    return rows.map(records.toUsageRow);
  }

  async createApiKey(key: ApiKeyRecord, audit?: AuditRecord): Promise<void> {
    const params = records.apiKeyParams(key);
    const insert = this.#query(
      INSERT_KEY,
      API_KEY_COLUMNS.map((column) => params[column]),
    );
    if (audit === undefined) {
      await this.#pool.query(insert);
      return;
    }
    await inTransaction(this.#pool, (client) =>
      send(client, [insert, this.#query(INSERT_AUDIT, records.auditParams(audit))]),
    );
  }

  async createApiKeyIfAbsent(key: ApiKeyRecord): Promise<{ created: boolean; key: ApiKeyRecord }> {
    const params = records.apiKeyParams(key);
    // ON CONFLICT waits for a concurrent insert of the same hash to commit, then does nothing;
    // the read that follows (a statement of its own) sees the key that won.
    const inserted = await this.#rows(
      this.#pool,
      INSERT_KEY_IF_ABSENT,
      API_KEY_COLUMNS.map((column) => params[column]),
    );
    const stored = await this.getApiKeyBySecretHash(key.secretHash);
    if (stored === null) throw new Error(`API key ${key.id} was neither stored nor found`);
    return { created: inserted.length > 0, key: stored };
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.#rows<PgApiKeyRow>(
      this.#pool,
      `SELECT ${API_KEY_SELECT} FROM api_keys WHERE id = $1`,
      [id],
    );
    return row ? records.toApiKey(row) : null;
  }

  async getApiKeyBySecretHash(secretHash: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.#rows<PgApiKeyRow>(
      this.#pool,
      `SELECT ${API_KEY_SELECT} FROM api_keys WHERE secret_hash = $1`,
      [secretHash],
    );
    return row ? records.toApiKey(row) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.#rows<PgApiKeyRow>(
      this.#pool,
      `SELECT ${API_KEY_SELECT} FROM api_keys ORDER BY id`,
      [],
    );
    return rows.map(records.toApiKey);
  }

  async getApiKeys(ids: readonly string[]): Promise<ApiKeyRecord[]> {
    const rows = await this.#rows<PgApiKeyRow>(
      this.#pool,
      `SELECT ${API_KEY_SELECT} FROM api_keys WHERE id = ANY($1)`,
      [[...ids]],
    );
    return rows.map(records.toApiKey);
  }

  async listApiKeyPage(options: {
    first: number;
    after?: string | undefined;
    includeRevoked: boolean;
  }): Promise<ApiKeyPage> {
    const limit = pageSize(options.first, MAX_ADMIN_PAGE_SIZE);
    const rows = await this.#rows<PgApiKeyRow>(
      this.#pool,
      `SELECT ${API_KEY_SELECT} FROM api_keys
       WHERE ($1::text IS NULL OR id < $1) AND ($2 OR revoked_at IS NULL)
       ORDER BY id DESC LIMIT $3`,
      [options.after ?? null, options.includeRevoked, limit + 1],
    );
    return { keys: rows.slice(0, limit).map(records.toApiKey), hasNextPage: rows.length > limit };
  }

  async updateApiKeyLimits(
    id: string,
    patch: LimitsPatch,
    audit: AuditDraft,
  ): Promise<ApiKeyRecord | null> {
    return inTransaction(this.#pool, async (client) => {
      // The row lock orders this change with admissions (which lock the key row too) and with
      // another limits change, so no patch is computed from limits another one replaced.
      const [row] = await this.#rows<PgApiKeyRow>(
        client,
        `SELECT ${API_KEY_SELECT} FROM api_keys WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (row === undefined) return null;
      const before = records.toApiKey(row);
      const after = { ...before, ...patchedLimits(before, patch) };
      const details = limitsChange(flatLimits(before), flatLimits(after));
      await send(client, [
        this.#query(UPDATE_KEY_LIMITS, [id, ...records.apiKeyLimitParams(after)]),
        this.#query(INSERT_AUDIT, records.auditParams({ ...audit, details })),
      ]);
      return after;
    });
  }

  async revokeApiKey(id: string, audit?: AuditRecord): Promise<boolean> {
    const revoke =
      'UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id';
    if (audit === undefined) {
      return (await this.#rows(this.#pool, revoke, [this.#now(), id])).length > 0;
    }
    return inTransaction(this.#pool, async (client) => {
      const revoked = (await this.#rows(client, revoke, [this.#now(), id])).length > 0;
      if (revoked) await client.query(this.#query(INSERT_AUDIT, records.auditParams(audit)));
      return revoked;
    });
  }

  async recordApiKeyUse(id: string, at: Date, throttleMs: number): Promise<void> {
    await this.#rows(
      this.#pool,
      `UPDATE api_keys SET last_used_at = $2 WHERE id = $1
       AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - make_interval(secs => $3::float8 / 1000))`,
      [id, at, throttleMs],
    );
  }

  async listAuditLog(first: number, after?: string): Promise<AuditPage> {
    const limit = pageSize(first, MAX_ADMIN_PAGE_SIZE);
    const rows = await this.#rows<AuditRow<Date, unknown[]>>(
      this.#pool,
      `SELECT ${AUDIT_SELECT} FROM audit_log WHERE ($1::text IS NULL OR id < $1)
       ORDER BY id DESC LIMIT $2`,
      [after ?? null, limit + 1],
    );
    return { entries: rows.slice(0, limit).map(records.toAudit), hasNextPage: rows.length > limit };
  }

  async ping(): Promise<boolean> {
    // A real round trip. The query's own timeout makes the pool drop a connection that stopped
    // answering; the timer also covers waiting for a connection that cannot be made.
    const query: QueryConfig & { query_timeout: number } = {
      text: 'SELECT 1',
      query_timeout: PING_TIMEOUT_MS,
    };
    const answered = this.#pool.query(query).then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, PING_TIMEOUT_MS, false);
    });
    try {
      return await Promise.race([answered, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#writes.drain();
    if (!this.#pool.ended) await this.#pool.end();
  }

  /**
   * Serializes the writes that read the same usage or the same room at Pixazo. An admission
   * locks its key's row for the key's scope and, for the end user's, an advisory lock on (key,
   * end user), so end users of a key without key-wide limits are admitted in parallel; a claim
   * the dispatch lock. A group's are taken together before any of its writes, each once, in
   * one order (keys, end users, dispatch; each kind sorted), so no two groups (or lone writes)
   * ever wait on each other's locks. Held until commit.
   */
  #lockQueries(locks: WriteLock[]): QueryConfig[] {
    const keys: string[] = [];
    const endUsers: Owner[] = [];
    let dispatch = false;
    for (const lock of locks) {
      if (lock === 'dispatch') dispatch = true;
      else if (lock.endUserId === null) keys.push(lock.keyId);
      else endUsers.push(lock);
    }
    const queries: QueryConfig[] = [];
    if (keys.length > 0) queries.push(this.#query(LOCK_KEYS, [keys]));
    if (endUsers.length > 0) {
      queries.push(
        this.#query(LOCK_END_USERS, [
          endUsers.map((owner) => owner.keyId),
          endUsers.map((owner) => owner.endUserId),
        ]),
      );
    }
    if (dispatch) queries.push(this.#query(LOCK_DISPATCH, []));
    return queries;
  }

  /**
   * The admission in one statement: it reads what `decideAdmission` needs (the usage of each
   * scope, the job of a repeated idempotency key) and, in the same snapshot, inserts the job
   * and its charge only where the policy admits it: no earlier job with the key, and within
   * every limit (`spent + cost <= budget` for the day and the month, `in flight < max`, as
   * decideAdmission has them), and never for a model the key may not use.
   * It returns the facts and `admitted` (1 or 0), so a refusal is explained from the very
   * numbers it was decided on. One round trip instead of reading, deciding, then writing.
   */
  #admissionQuery(
    { job, day, keyLimits: { allowedModels } }: AdmissionRequest,
    scopes: AdmissionScope[],
  ): QueryConfig {
    const statement = new Statement();
    const params = records.jobParams(job);
    const values = JOB_COLUMNS.map((column) => statement.param(params[column]));
    const facts = scopes.map(({ scope, owner, monthlyBudgetMicroUsd }) =>
      usageColumns(statement, owner, day, scope, monthlyBudgetMicroUsd !== null),
    );
    const admissible: string[] = [];
    // A model the key may not use is never inserted; decideAdmission says why (or answers a
    // repeated idempotency key with its job, which comes first).
    if (allowedModels !== null && !allowedModels.includes(job.model)) admissible.push('false');
    for (const { scope, limits, monthlyBudgetMicroUsd } of scopes) {
      // Sent only where a budget reads it: a parameter no expression uses has no type.
      let costParam: string | undefined;
      const cost = () => {
        costParam ??= statement.param(job.costMicroUsd);
        return costParam;
      };
      if (limits.dailyBudgetMicroUsd !== null) {
        admissible.push(
          `facts."${scope}_spent" + ${cost()} <= ${statement.param(limits.dailyBudgetMicroUsd)}`,
        );
      }
      if (monthlyBudgetMicroUsd !== null) {
        admissible.push(
          `facts."${scope}_month" + ${cost()} <= ${statement.param(monthlyBudgetMicroUsd)}`,
        );
      }
      if (limits.maxConcurrentJobs !== null) {
        admissible.push(
          `facts."${scope}_in_flight" < ${statement.param(limits.maxConcurrentJobs)}`,
        );
      }
    }
    const at = statement.param(this.#now());
    let from = '';
    if (job.idempotencyKey !== null) {
      facts.push(columnsOf(JOB_COLUMNS, 'existing'));
      from = `FROM (VALUES (1)) AS one LEFT JOIN jobs AS existing
        ON existing.owner_key_id = ${statement.param(job.ownerKeyId)}
        AND coalesce(existing.end_user_id, '') = ${statement.param(job.endUserId ?? '')}
        AND existing.idempotency_key = ${statement.param(job.idempotencyKey)}`;
      // Without a match the LEFT JOIN leaves every job column null.
      admissible.push('facts.id IS NULL');
    }
    statement.text = `
      WITH facts AS (SELECT ${facts.length > 0 ? facts.join(', ') : '1 AS one'} ${from}),
      job AS (
        INSERT INTO jobs (${JOB_COLUMNS.join(', ')})
        SELECT ${values.join(', ')} FROM facts
        ${admissible.length > 0 ? `WHERE ${admissible.join(' AND ')}` : ''}
        ON CONFLICT (owner_key_id, coalesce(end_user_id, ''), idempotency_key)
          WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING ${JOB_COLUMNS.join(', ')}
      ),
      charge AS (
        INSERT INTO usage_ledger (job_id, key_id, end_user_id, day, micro_usd, reason, at)
        SELECT id, owner_key_id, end_user_id, ${statement.param(day)}, cost_micro_usd, 'charge', ${at}
        FROM job
        RETURNING job_id
      ),
      outbox AS (${enqueueWebhook('job', "job.status = 'QUEUED'", statement.param(newId('msg')), at)}
      )
      SELECT facts.*, (SELECT count(*) FROM charge)::int AS admitted FROM facts`;
    return this.#query(statement.text, statement.values);
  }

  async #jobByIdempotencyKey(
    runner: Pool | PoolClient,
    owner: Owner,
    idempotencyKey: string,
  ): Promise<JobRecord | null> {
    const [row] = await this.#rows<PgJobRow>(runner, JOB_BY_IDEMPOTENCY_KEY, [
      owner.keyId,
      owner.endUserId,
      idempotencyKey,
    ]);
    return row ? records.toJob(row) : null;
  }

  async #rows<Row extends QueryResultRow = QueryResultRow>(
    runner: Pool | PoolClient,
    text: string,
    values: unknown[],
  ): Promise<Row[]> {
    const result = await runner.query<Row>(this.#query(text, values));
    return result.rows;
  }

  /** `text` as a named statement: node-postgres prepares it once per connection. */
  #query(text: string, values: unknown[]): QueryConfig {
    let name = this.#names.get(text);
    if (name === undefined) {
      name = `zimage_${this.#names.size + 1}`;
      this.#names.set(text, name);
    }
    return { name, text, values };
  }
}

/**
 * Columns `<alias>_spent`, `<alias>_in_flight` and, with `month`, `<alias>_month`: the usage
 * of `owner` on `day` (and in its month up to it), the whole key when it has no end user.
 */
function usageColumns(
  statement: Statement,
  owner: Owner,
  day: string,
  alias: string,
  month: boolean,
): string {
  const keyId = statement.param(owner.keyId);
  const endUser =
    owner.endUserId === null ? '' : ` AND end_user_id = ${statement.param(owner.endUserId)}`;
  const dayParam = statement.param(day);
  const monthColumn = month
    ? `(SELECT coalesce(sum(micro_usd), 0)::bigint FROM usage_ledger
      WHERE key_id = ${keyId}${endUser} AND day >= ${statement.param(monthStart(day))}
        AND day <= ${dayParam}) AS "${alias}_month",`
    : '';
  return `(SELECT coalesce(sum(micro_usd), 0)::bigint FROM usage_ledger
      WHERE key_id = ${keyId}${endUser} AND day = ${dayParam}) AS "${alias}_spent", ${monthColumn}
    (SELECT count(*) FROM jobs
      WHERE owner_key_id = ${keyId}${endUser} AND ${IN_FLIGHT_SQL}) AS "${alias}_in_flight"`;
}

/** The facts `#admissionQuery`'s row holds, for `decideAdmission`. */
function readFacts(row: QueryResultRow | undefined, scopes: AdmissionScope[]): AdmissionFacts {
  const usage: AdmissionFacts['usage'] = {};
  for (const { scope } of scopes) usage[scope] = readUsage(row, scope);
  // Without a match the LEFT JOIN leaves every job column null.
  const existing = typeof row?.id === 'string' ? records.toJob(row as PgJobRow) : null;
  return { existing, usage };
}

function readUsage(row: QueryResultRow | undefined, alias: string): ScopeUsage {
  return {
    spentMicroUsd: row?.[`${alias}_spent`] as number,
    spentThisMonthMicroUsd: (row?.[`${alias}_month`] as number | undefined) ?? null,
    jobsInFlight: row?.[`${alias}_in_flight`] as number,
  };
}

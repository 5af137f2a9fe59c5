/**
 * The SQLite schema as an ordered list of steps (migration.ts); opening an up-to-date database
 * applies nothing.
 *
 * Conventions: times are Unix epoch milliseconds (INTEGER: exact, sortable, no time-zone
 * parsing); money is integer micro-USD; lists are JSON text; booleans are 0/1.
 */
import type { Migration } from './migration.ts';

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    name: 'api keys, jobs, usage ledger',
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        scopes TEXT NOT NULL,
        daily_budget_micro_usd INTEGER,
        max_concurrent_jobs INTEGER,
        requests_per_minute INTEGER,
        end_user_daily_budget_micro_usd INTEGER,
        end_user_max_concurrent_jobs INTEGER,
        end_user_requests_per_minute INTEGER,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;

      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        owner_key_id TEXT NOT NULL REFERENCES api_keys (id),
        end_user_id TEXT,
        idempotency_key TEXT,
        model TEXT NOT NULL,
        prompt TEXT NOT NULL,
        -- The prompt case-folded by the application (Unicode-aware, unlike SQLite's ASCII-only
        -- LIKE folding), so search matches as PostgreSQL's ILIKE would.
        prompt_folded TEXT NOT NULL,
        image_size TEXT NOT NULL,
        num_inference_steps INTEGER NOT NULL,
        guidance_scale REAL,
        num_images INTEGER NOT NULL,
        enable_safety_checker INTEGER NOT NULL,
        output_format TEXT NOT NULL,
        acceleration TEXT NOT NULL,
        status TEXT NOT NULL,
        submission TEXT NOT NULL,
        request_id TEXT,
        webhook_token_hash TEXT,
        error TEXT,
        cost_micro_usd INTEGER NOT NULL,
        images TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER
      ) STRICT;

      -- Ids are time-ordered (uuidv7), so (…, id) indexes serve "newest first" listings.
      CREATE INDEX jobs_by_owner ON jobs (owner_key_id, id);
      CREATE INDEX jobs_by_end_user ON jobs (owner_key_id, end_user_id, id);
      CREATE INDEX jobs_by_status ON jobs (status, id);
      CREATE INDEX jobs_by_model ON jobs (model, id);
      -- Admission counts jobs in flight per key and end user; the non-terminal statuses
      -- (jobs/job.ts) are spelled out because an index predicate must be a constant.
      CREATE INDEX jobs_in_flight ON jobs (owner_key_id, end_user_id)
        WHERE status IN ('QUEUED', 'PROCESSING');
      -- NULLs are distinct in a unique index, so the key's own jobs (no end user) are folded
      -- to '' (an end user id is never empty) to make their idempotency keys unique too.
      CREATE UNIQUE INDEX jobs_idempotency
        ON jobs (owner_key_id, coalesce(end_user_id, ''), idempotency_key)
        WHERE idempotency_key IS NOT NULL;

      -- One 'charge' row per admitted job, and a 'refund' (negative) or further 'charge' row
      -- whenever its cost changes, so the sum for a job always equals its cost. day is the
      -- UTC day the job was created: a refund returns money to the day that paid.
      CREATE TABLE usage_ledger (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id),
        key_id TEXT NOT NULL REFERENCES api_keys (id),
        end_user_id TEXT,
        day TEXT NOT NULL,
        micro_usd INTEGER NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('charge', 'refund')),
        at INTEGER NOT NULL
      ) STRICT;

      CREATE INDEX usage_by_key_day ON usage_ledger (key_id, day, micro_usd);
      CREATE INDEX usage_by_end_user_day ON usage_ledger (key_id, end_user_id, day, micro_usd);
      CREATE INDEX usage_by_job ON usage_ledger (job_id);
    `,
  },
  {
    name: 'jobs by update time',
    // A subscription catching up after a gap lists the jobs changed since then.
    sql: 'CREATE INDEX jobs_by_updated_at ON jobs (updated_at, id);',
  },
  {
    name: 'dispatch claims, instance heartbeats',
    sql: `
      -- The instance that claimed (or adopted) the job: it sends it and tracks it.
      ALTER TABLE jobs ADD COLUMN owner_instance TEXT;
      CREATE INDEX jobs_pending ON jobs (id) WHERE status = 'QUEUED' AND submission = 'pending';
      CREATE INDEX jobs_at_pixazo ON jobs (owner_instance)
        WHERE status IN ('QUEUED', 'PROCESSING') AND submission IN ('submitting', 'submitted');

      -- Gateway instances; heartbeat_at is the store's clock, in epoch milliseconds.
      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        heartbeat_at INTEGER NOT NULL
      ) STRICT;

      -- A job claimed for submission never waits again, so it is never sent twice.
      CREATE TRIGGER jobs_never_pending_again BEFORE UPDATE OF submission ON jobs
        WHEN OLD.submission <> 'pending' AND NEW.submission = 'pending'
      BEGIN
        SELECT RAISE(ABORT, 'a job claimed for submission cannot become pending again');
      END;
    `,
  },
  {
    name: 'shared upstream health',
    sql: `
      -- At most one row: the condition the gateway honours, and who sends the probe.
      CREATE TABLE upstream_health (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        condition TEXT NOT NULL,
        since INTEGER NOT NULL,
        until INTEGER NOT NULL,
        probe_by TEXT
      ) STRICT;
    `,
  },
  {
    name: 'operators: monthly budgets, allowed models, last use, audit log',
    sql: `
      ALTER TABLE api_keys ADD COLUMN monthly_budget_micro_usd INTEGER;
      -- A JSON list of model keys; NULL: every model.
      ALTER TABLE api_keys ADD COLUMN allowed_models TEXT;
      -- Written at most about once a minute per key (auth/last-use.ts).
      ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;

      -- Who did what to which key, and when: written with the change, in its transaction.
      CREATE TABLE audit_log (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_key_id TEXT REFERENCES api_keys (id),
        api_key_id TEXT NOT NULL REFERENCES api_keys (id),
        details TEXT NOT NULL
      ) STRICT;

      -- The usage report reads the ledger by day across every key.
      CREATE INDEX usage_by_day ON usage_ledger (day);
    `,
  },
];

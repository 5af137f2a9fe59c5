/**
 * The PostgreSQL schema as an ordered list of steps (migration.ts). The store applies every
 * pending step in one transaction under an advisory lock, so instances starting at once on an
 * empty database migrate it once.
 *
 * Conventions: times are timestamptz; money is integer micro-USD in BIGINT; lists are jsonb.
 * Ids are `<kind>_<uuidv7 hex>` compared byte-wise (COLLATE "C"): "newest first" is `ORDER BY
 * id` whatever the database's locale.
 */
import type { Migration } from './migration.ts';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: 'api keys, jobs, usage ledger',
    sql: `
      CREATE TABLE api_keys (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        secret_hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        scopes jsonb NOT NULL,
        daily_budget_micro_usd bigint,
        max_concurrent_jobs integer,
        requests_per_minute integer,
        end_user_daily_budget_micro_usd bigint,
        end_user_max_concurrent_jobs integer,
        end_user_requests_per_minute integer,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
      );

      CREATE TABLE jobs (
        id text COLLATE "C" PRIMARY KEY,
        owner_key_id text COLLATE "C" NOT NULL REFERENCES api_keys (id),
        end_user_id text,
        idempotency_key text,
        model text NOT NULL,
        prompt text NOT NULL,
        -- The prompt case-folded by the application (store/sql.ts), so search folds the same
        -- way on every store whatever the database's locale.
        prompt_folded text NOT NULL,
        image_size text NOT NULL,
        num_inference_steps integer NOT NULL,
        guidance_scale double precision,
        num_images integer NOT NULL,
        enable_safety_checker boolean NOT NULL,
        output_format text NOT NULL,
        acceleration text NOT NULL,
        status text NOT NULL,
        submission text NOT NULL,
        request_id text,
        webhook_token_hash text,
        error text,
        cost_micro_usd bigint NOT NULL,
        images jsonb NOT NULL,
        version integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        started_at timestamptz,
        completed_at timestamptz
      );

      CREATE INDEX jobs_by_owner ON jobs (owner_key_id, id);
      CREATE INDEX jobs_by_end_user ON jobs (owner_key_id, end_user_id, id);
      CREATE INDEX jobs_by_status ON jobs (status, id);
      CREATE INDEX jobs_by_model ON jobs (model, id);
      -- Admission counts jobs in flight per key and end user; the non-terminal statuses
      -- (domain/job.ts) are spelled out because an index predicate must be a constant.
      CREATE INDEX jobs_in_flight ON jobs (owner_key_id, end_user_id)
        WHERE status IN ('QUEUED', 'PROCESSING');
      -- The gateway's own queue, oldest first: its depth, and the jobs dispatch takes next.
      CREATE INDEX jobs_pending ON jobs (id) WHERE status = 'QUEUED' AND submission = 'pending';
      -- The key's own jobs (no end user) are folded to '' (an end user id is never empty) so
      -- that their idempotency keys are unique too; admission's ON CONFLICT names this index.
      CREATE UNIQUE INDEX jobs_idempotency
        ON jobs (owner_key_id, coalesce(end_user_id, ''), idempotency_key)
        WHERE idempotency_key IS NOT NULL;

      -- One 'charge' row per admitted job, and a 'refund' (negative) or further 'charge' row
      -- whenever its cost changes, so the sum for a job always equals its cost. day is the
      -- UTC day the job was created: a refund returns money to the day that paid.
      CREATE TABLE usage_ledger (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id text COLLATE "C" NOT NULL REFERENCES jobs (id),
        key_id text COLLATE "C" NOT NULL REFERENCES api_keys (id),
        end_user_id text,
        day date NOT NULL,
        micro_usd bigint NOT NULL,
        reason text NOT NULL CHECK (reason IN ('charge', 'refund')),
        at timestamptz NOT NULL
      );

      CREATE INDEX usage_by_key_day ON usage_ledger (key_id, day) INCLUDE (micro_usd);
      CREATE INDEX usage_by_end_user_day ON usage_ledger (key_id, end_user_id, day)
        INCLUDE (micro_usd);
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
      ALTER TABLE jobs ADD COLUMN owner_instance text COLLATE "C";
      -- The jobs at Pixazo, which the dispatch cap counts and adoption scans.
      CREATE INDEX jobs_at_pixazo ON jobs (owner_instance)
        WHERE status IN ('QUEUED', 'PROCESSING') AND submission IN ('submitting', 'submitted');

      -- Live gateway instances; heartbeat_at is the database's clock (now()), never a host's.
      CREATE TABLE instances (
        id text COLLATE "C" PRIMARY KEY,
        heartbeat_at timestamptz NOT NULL
      );

      -- A job claimed for submission never waits again: a second claim, hence a second paid
      -- POST, cannot commit whatever the code does.
      CREATE FUNCTION jobs_never_pending_again() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.submission <> 'pending' AND NEW.submission = 'pending' THEN
          RAISE EXCEPTION 'job % was claimed for submission; it cannot become pending again', OLD.id;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER jobs_never_pending_again BEFORE UPDATE OF submission ON jobs
        FOR EACH ROW EXECUTE FUNCTION jobs_never_pending_again();
    `,
  },
  {
    name: 'shared upstream health',
    sql: `
      -- At most one row: the condition every instance honours, and who sends the probe.
      CREATE TABLE upstream_health (
        id integer PRIMARY KEY CHECK (id = 1),
        condition text NOT NULL,
        since timestamptz NOT NULL,
        until timestamptz NOT NULL,
        probe_by text COLLATE "C"
      );
    `,
  },
  {
    name: 'operators: monthly budgets, allowed models, last use, audit log',
    sql: `
      ALTER TABLE api_keys ADD COLUMN monthly_budget_micro_usd bigint;
      -- A list of model keys; NULL: every model.
      ALTER TABLE api_keys ADD COLUMN allowed_models jsonb;
      -- Written at most about once a minute per key (auth/last-use.ts).
      ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;

      -- Who did what to which key, and when: written with the change, in its transaction.
      CREATE TABLE audit_log (
        id text COLLATE "C" PRIMARY KEY,
        at timestamptz NOT NULL,
        action text NOT NULL,
        actor text NOT NULL,
        actor_key_id text COLLATE "C" REFERENCES api_keys (id),
        api_key_id text COLLATE "C" NOT NULL REFERENCES api_keys (id),
        details jsonb NOT NULL
      );

      -- The usage report reads the ledger by day across every key.
      CREATE INDEX usage_by_day ON usage_ledger (day);
    `,
  },
];

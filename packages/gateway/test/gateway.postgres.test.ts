import type { ExecutionResult } from 'graphql';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collect,
  type GatewayHarness,
  GENERATE,
  JOB_FIELDS,
  JOB_UPDATED,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';

const database = usePostgresDatabase();
const ADMIN_API_KEY = 'zk_admin-secret-of-the-postgres-gateway-test';

let h: GatewayHarness;

beforeAll(async () => {
  h = await startGatewayHarness({ databaseUrl: database.url, adminApiKey: ADMIN_API_KEY });
});
afterAll(() => h?.close());

type Job = Record<string, unknown> & { id: string; status: string; images: { url: string }[] };

describe('a gateway on PostgreSQL', () => {
  it('takes a job from admission to COMPLETED, and keeps it across a restart', async () => {
    const { secret, record } = await h.createKey({ limits: { dailyBudgetMicroUsd: 100_000 } });
    const { body } = await h.graphql(GENERATE, {
      key: secret,
      variables: {
        input: { prompt: 'a lighthouse in the fog', imageSize: 'SQUARE_1_1', numImages: 2 },
      },
    });
    expect(body.errors).toBeUndefined();
    const job = (body.data as { generateImage: Job }).generateImage;
    expect(job).toMatchObject({ status: 'QUEUED', costUsd: 0.016 });

    const results: ExecutionResult[] = await collect(h.wsClient(secret), JOB_UPDATED, {
      id: job.id,
    });
    const final = (results.at(-1)?.data as { jobUpdated: Job } | undefined)?.jobUpdated;
    expect(final?.status).toBe('COMPLETED');
    expect(final?.images).toHaveLength(2);
    expect((await fetch(final?.images[0]?.url ?? '')).status).toBe(200);
    expect((await fetch(`${h.gateway.url}/readyz`)).status).toBe(200);

    // The job and its charge are rows in PostgreSQL itself.
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT status, submission, request_id IS NOT NULL AS submitted, cost_micro_usd::int AS cost,
           (SELECT sum(micro_usd)::int FROM usage_ledger WHERE job_id = jobs.id) AS charged
         FROM jobs WHERE id = $1 AND owner_key_id = $2`,
        [job.id, record.id],
      );
      expect(rows).toEqual([
        {
          status: 'COMPLETED',
          submission: 'submitted',
          submitted: true,
          cost: 16_000,
          charged: 16_000,
        },
      ]);
    } finally {
      await client.end();
    }

    // Another gateway (its own, new data directory) on the same database finds it all.
    await h.close();
    h = await startGatewayHarness({ databaseUrl: database.url, adminApiKey: ADMIN_API_KEY });
    const again = await h.graphql(`query ($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, {
      key: secret,
      variables: { id: job.id },
    });
    expect(again.body.data?.job).toMatchObject({ id: job.id, status: 'COMPLETED', costUsd: 0.016 });
    expect(await h.gateway.store.listApiKeys()).toHaveLength(2);
  }, 30_000); // two gateway starts, each migrating and connecting, on a busy machine
});

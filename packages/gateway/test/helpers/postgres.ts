/**
 * PostgreSQL for tests: each test file that calls `usePostgresDatabase()` gets a database of its
 * own (created before its tests, dropped WITH (FORCE) after them), and within it a fresh schema
 * for every store that must start empty. The server is the one this machine runs
 * (ZIMAGE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test); when it does not
 * answer, the tests fail saying so: they never skip.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const POSTGRES_ADMIN_URL =
  process.env.ZIMAGE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** This file's database (known once its beforeAll ran). */
  readonly url: string;
  /** A new, empty schema in it: the URL makes every connection use it (search_path). */
  freshSchema(): Promise<string>;
}

const uniqueName = (prefix: string) => `${prefix}${randomBytes(6).toString('hex')}`;

async function adminClient(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${url} (${(error as Error).message}); these tests need ` +
        'it running: start it (docs/contributing.md) or set ZIMAGE_TEST_POSTGRES_URL',
    );
  }
  return client;
}

/** Registers the creation and the dropping of this file's database. */
export function usePostgresDatabase(): TestDatabase {
  const name = uniqueName('zimage_t_');
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;

  beforeAll(async () => {
    const admin = await adminClient(POSTGRES_ADMIN_URL);
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
  });

  afterAll(async () => {
    const admin = await adminClient(POSTGRES_ADMIN_URL);
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });

  return {
    url: url.toString(),
    async freshSchema() {
      const schema = uniqueName('s_');
      const client = await adminClient(url.toString());
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
      } finally {
        await client.end();
      }
      const schemaUrl = new URL(url);
      schemaUrl.searchParams.set('options', `-c search_path=${schema}`);
      return schemaUrl.toString();
    },
  };
}

/** One query on its own connection (tests reading what the gateways stored). */
export async function queryDatabase<T>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Checking a connection out of a node-postgres pool for a transaction, and giving it back:
 * shared by the PostgreSQL store and its group commit.
 */
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';

/**
 * A connection checked out of the pool, which listens for the 'error' of idle connections
 * only: one that breaks between two queries of a transaction (the server or the network went)
 * would emit an 'error' no one hears, ending the process. Its next query fails anyway, and the
 * rollback destroys it.
 */
const ignoreBrokenConnection = () => {};

export async function checkOut(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  client.on('error', ignoreBrokenConnection);
  return client;
}

/** Back to the pool; with `broken`, destroyed instead. */
export function giveBack(client: PoolClient, broken?: Error): void {
  client.off('error', ignoreBrokenConnection);
  client.release(broken);
}

export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await checkOut(pool);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    giveBack(client);
    return result;
  } catch (error) {
    await rollBack(client);
    throw error;
  }
}

/**
 * Ends a failed transaction and returns the connection to the pool. False when the connection
 * did not answer the rollback: it is in an unknown state, destroyed rather than ever reused.
 */
export async function rollBack(client: PoolClient): Promise<boolean> {
  const broken = await client.query('ROLLBACK').then(
    () => undefined,
    (rollbackError: Error) => rollbackError,
  );
  giveBack(client, broken);
  return broken === undefined;
}

/**
 * Sends `queries` together (the pool's connections pipeline them): one round trip for all,
 * run by the server in order. Nulls are left out. Rejects with the first failure, once every
 * query has answered, so the connection is idle again for the ROLLBACK that follows.
 */
export async function send(
  client: PoolClient,
  queries: (QueryConfig | null)[],
): Promise<QueryResult[]> {
  const answers = await Promise.allSettled(
    queries.filter((query) => query !== null).map((query) => client.query(query)),
  );
  const failure = answers.find((answer) => answer.status === 'rejected');
  if (failure) throw failure.reason;
  return answers.map((answer) => (answer as PromiseFulfilledResult<QueryResult>).value);
}

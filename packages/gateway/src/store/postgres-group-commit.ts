/**
 * Group commit for the PostgreSQL store: the writes issued within one turn of the event loop
 * go out together on one pooled connection as one transaction — `BEGIN`, the locks of every
 * write, each write's statement, `COMMIT` — pipelined, so one round trip and one WAL flush
 * serve them all, and a key's admissions take its lock once per group instead of once each.
 *
 * - Each write's promise settles only after the COMMIT succeeded (with its own statement's
 *   result), so nothing is answered, published or POSTed before the write it follows from is
 *   durable.
 * - The locks are taken before any statement, by the statements `lockQueries` makes of all of
 *   them, which take each once and in one order every group (and every lone write) follows:
 *   two groups can wait on each other's locks only one way round, never deadlock on them.
 * - Under READ COMMITTED each statement sees the earlier ones of its transaction, so a write
 *   counts what the writes before it in its group did (a second admission of a key its first's
 *   charge), as it would had they committed one after the other.
 * - PostgreSQL aborts the whole transaction at its first error. The group is then rolled back
 *   and each of its writes run again alone, one after the other, as its own transaction: only
 *   the faulty one fails. Should the connection break instead, whether the COMMIT took effect
 *   is unknown, and every write of the group is refused, as a lone write's would be.
 * - At most `maxGroupsInFlight` groups are out at once, so the pool keeps connections for
 *   reads; while that many are out the next group stays open, gathering the writes of later
 *   turns too, and goes as soon as one of them is done.
 */
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { checkOut, giveBack, rollBack } from './postgres-connection.ts';

/** One write: the locks it needs held before it runs, and its one statement. */
export interface GroupWrite<Lock> {
  locks: readonly Lock[];
  statement: QueryConfig;
}

export interface GroupCommitOptions<Lock> {
  /**
   * The statements that take `locks` (those of every write of a group, repeats included):
   * each once, in one order for every group.
   */
  lockQueries(locks: Lock[]): QueryConfig[];
  maxGroupsInFlight: number;
}

interface Pending<Lock> extends GroupWrite<Lock> {
  resolve(result: QueryResult): void;
  reject(error: unknown): void;
}

interface Group<Lock> {
  writes: Pending<Lock>[];
  /** Its turn of the event loop ended: it goes as soon as a group may. */
  due: boolean;
}

export class PostgresGroupCommit<Lock> {
  readonly #pool: Pool;
  readonly #options: GroupCommitOptions<Lock>;
  /** The group gathering writes; null until the next write. */
  #open: Group<Lock> | null = null;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(pool: Pool, options: GroupCommitOptions<Lock>) {
    this.#pool = pool;
    this.#options = options;
  }

  /** Runs `write` in the group of this turn; settles once that group is committed. */
  write(write: GroupWrite<Lock>): Promise<QueryResult> {
    return new Promise((resolve, reject) => {
      if (this.#open === null) {
        const group: Group<Lock> = { writes: [], due: false };
        this.#open = group;
        setImmediate(() => {
          group.due = true;
          this.#sendOpen();
        });
      }
      this.#open.writes.push({ ...write, resolve, reject });
    });
  }

  /** Sends the open group now and waits until every group is settled (before closing the pool). */
  async drain(): Promise<void> {
    while (this.#open !== null || this.#inFlight.size > 0) {
      if (this.#open !== null) this.#open.due = true;
      this.#sendOpen();
      await Promise.all(this.#inFlight);
    }
  }

  #sendOpen(): void {
    const group = this.#open;
    if (group === null || !group.due || this.#inFlight.size >= this.#options.maxGroupsInFlight) {
      return;
    }
    this.#open = null;
    const sent = this.#commit(group.writes, true).finally(() => {
      this.#inFlight.delete(sent);
      this.#sendOpen();
    });
    this.#inFlight.add(sent);
  }

  /** Runs `writes` as one transaction and settles each; never rejects. */
  async #commit(writes: Pending<Lock>[], retryAlone: boolean): Promise<void> {
    const [first] = writes;
    if (first === undefined) return;
    if (writes.length === 1 && first.locks.length === 0) {
      // One statement is a transaction of its own.
      await this.#pool.query(first.statement).then(first.resolve, first.reject);
      return;
    }
    let client: PoolClient;
    try {
      client = await checkOut(this.#pool);
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    const locks = this.#options.lockQueries(writes.flatMap((write) => write.locks));
    const queries = [
      { text: 'BEGIN' },
      ...locks,
      ...writes.map((write) => write.statement),
      { text: 'COMMIT' },
    ];
    // All queued at once: node-postgres sends them back to back, the server runs them in order.
    const answers = await Promise.allSettled(queries.map((query) => client.query(query)));
    const commit = answers.at(-1);
    // After an error the server answers COMMIT with ROLLBACK.
    if (commit?.status === 'fulfilled' && commit.value.command === 'COMMIT') {
      giveBack(client);
      for (const [i, write] of writes.entries()) {
        // A statement refused in a committed group never reached the server (node-postgres
        // could not send it): that write alone did nothing.
        const answer = answers[1 + locks.length + i];
        if (answer?.status === 'fulfilled') write.resolve(answer.value);
        else write.reject(answer?.reason);
      }
      return;
    }
    const failure =
      answers.find((answer) => answer.status === 'rejected')?.reason ??
      new Error('the transaction was rolled back');
    const rolledBack = await rollBack(client);
    if (rolledBack && retryAlone && writes.length > 1) {
      for (const write of writes) await this.#commit([write], false);
      return;
    }
    for (const write of writes) write.reject(failure);
  }
}

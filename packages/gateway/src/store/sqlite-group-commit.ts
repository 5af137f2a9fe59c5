/**
 * Group commit for the SQLite store: the writes that arrive within one turn of the event loop
 * share one transaction, so one fsync makes all of them durable. With synchronous FULL each
 * commit is an fsync that blocks the event loop; at 16 requests in flight three commits per job
 * (admission, 'submitting', 'submitted') ran one after another and the answers queued behind
 * them.
 *
 * Each write still runs at once and alone (node:sqlite is synchronous), inside a savepoint of
 * the group's transaction: one that throws undoes only itself and is refused at once. The
 * others' promises settle only after the COMMIT, so nothing is answered, published or POSTed
 * before the write it follows from is durable. Reads on this connection meanwhile see the
 * group's writes a moment early; they vanish again only if the COMMIT itself fails (an I/O
 * error), and then every write of the group is refused.
 */
import type { DatabaseSync } from 'node:sqlite';

interface Settle {
  resolve(): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  readonly #db: DatabaseSync;
  /** The writes of the open transaction, waiting for its COMMIT; null while none is open. */
  #group: Settle[] | null = null;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Runs `work` (synchronous) in the group's transaction; settles once that is committed. */
  write<T>(work: () => T): Promise<T> {
    let group: Settle[];
    try {
      group = this.#open();
      this.#db.exec('SAVEPOINT write');
    } catch (error) {
      return Promise.reject(error);
    }
    let result: T;
    try {
      result = work();
      this.#db.exec('RELEASE write');
    } catch (error) {
      this.#undo(group, error);
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      group.push({ resolve: () => resolve(result), reject });
    });
  }

  /** Commits the open group now (before closing the database). */
  flush(): void {
    const group = this.#group;
    if (group === null) return;
    this.#group = null;
    try {
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const write of group) write.reject(error);
      return;
    }
    for (const write of group) write.resolve();
  }

  #open(): Settle[] {
    if (this.#group !== null) return this.#group;
    // IMMEDIATE takes the write lock first: another process (the keys CLI) waits for at most
    // this turn of the event loop.
    this.#db.exec('BEGIN IMMEDIATE');
    const group: Settle[] = [];
    this.#group = group;
    setImmediate(() => {
      if (this.#group === group) this.flush();
    });
    return group;
  }

  /** Undoes the failed write alone; if SQLite already ended the transaction, the whole group. */
  #undo(group: Settle[], error: unknown): void {
    try {
      this.#db.exec('ROLLBACK TO write');
      this.#db.exec('RELEASE write');
    } catch {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      this.#group = null;
      for (const write of group) write.reject(error);
    }
  }
}

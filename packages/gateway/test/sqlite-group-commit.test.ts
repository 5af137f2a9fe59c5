/**
 * Group commit on a real database file, watched from a second connection (another process's
 * view): a write is committed only at the end of its turn of the event loop, together with the
 * others of that turn, and its promise settles only once it is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/store/sqlite-group-commit.ts';

describe('SQLite group commit', () => {
  let dir: string;
  let db: DatabaseSync;
  let observer: DatabaseSync;
  let writes: GroupCommit;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'zimage-group-commit-'));
    db = new DatabaseSync(join(dir, 'db.sqlite'), { enableForeignKeyConstraints: true });
    db.exec(`PRAGMA journal_mode = WAL;
      CREATE TABLE parents (id INTEGER PRIMARY KEY);
      CREATE TABLE rows (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents (id));`);
    observer = new DatabaseSync(join(dir, 'db.sqlite'));
    writes = new GroupCommit(db);
  });

  afterEach(() => {
    writes.flush();
    db.close();
    observer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (id: number) => () => db.prepare('INSERT INTO rows (id) VALUES (?)').run(id);
  const committed = () =>
    (observer.prepare('SELECT id FROM rows ORDER BY id').all() as { id: number }[]).map(
      (row) => row.id,
    );

  it('commits the writes of one turn together, and settles each only once committed', async () => {
    const first = writes.write(insert(1));
    const second = writes.write(insert(2));
    expect(committed()).toEqual([]);
    // The second is not awaited yet, and is committed already: one commit for both.
    await first;
    expect(committed()).toEqual([1, 2]);
    await second;
  });

  it('lets the writer read its own writes before the commit', async () => {
    const written = writes.write(insert(1));
    const seen = writes.write(() => db.prepare('SELECT count(*) AS n FROM rows').get());
    expect(await seen).toEqual({ n: 1 });
    await written;
  });

  it('refuses a failing write alone, undoing what it wrote, and commits the others', async () => {
    const before = writes.write(insert(1));
    const failing = writes.write(() => {
      insert(2)();
      insert(1)(); // the primary key refuses it
    });
    const after = writes.write(insert(3));
    await expect(failing).rejects.toThrow(/UNIQUE constraint failed/);
    await Promise.all([before, after]);
    expect(committed()).toEqual([1, 3]);
  });

  it('refuses every write of the group when the commit itself fails', async () => {
    db.exec('PRAGMA defer_foreign_keys = ON');
    const fine = writes.write(insert(1));
    // Checked only at COMMIT: the whole transaction is refused there.
    const orphan = writes.write(() =>
      db.prepare('INSERT INTO rows (id, parent) VALUES (2, 7)').run(),
    );
    await expect(fine).rejects.toThrow(/FOREIGN KEY constraint failed/);
    await expect(orphan).rejects.toThrow(/FOREIGN KEY constraint failed/);
    expect(committed()).toEqual([]);
    expect(db.isTransaction).toBe(false);
    // The next turn starts a fresh group.
    await writes.write(insert(3));
    expect(committed()).toEqual([3]);
  });

  it('commits the open group at once on flush (before the database closes)', async () => {
    const written = writes.write(insert(1));
    writes.flush();
    expect(committed()).toEqual([1]);
    await written;
  });
});

/**
 * What every adapter's migrations are: an ordered list of steps. A step, once released, never
 * changes: a change is a new step at the end. Each store records applied steps by position
 * (version = index + 1) in its `schema_migrations` table.
 */

export interface Migration {
  name: string;
  sql: string;
}

/** Refuses a database that a newer gateway migrated: this one would misread its tables. */
export function assertKnownSchemaVersion(applied: number, known: number): void {
  if (applied > known) {
    throw new Error(
      `The database schema is at version ${applied}, newer than this gateway knows (${known}); run a newer gateway`,
    );
  }
}

/**
 * Counts, inside a gateway's process, every statement it sends to PostgreSQL and every command
 * it sends to Redis, by wrapping the drivers' own send methods (node-postgres'
 * `Client.prototype.query`, ioredis' `Redis.prototype.sendCommand`), and SQLite's commits and
 * the writes they hold (node:sqlite's `DatabaseSync.prototype.exec`, which the group commit
 * calls for every COMMIT and every write's SAVEPOINT). Counted on the client side
 * because neither server can tell us apart from the other users of the machine's PostgreSQL
 * and Redis: pg_stat_statements is not loaded there, and INFO commandstats is server-wide.
 */
import { DatabaseSync } from 'node:sqlite';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface CommandCounts {
  /** Statements by label (the statement's first words). */
  postgres: Record<string, number>;
  /**
   * Round trips to PostgreSQL: statements sent on a connection with no statement awaiting its
   * answer (those sent while one is pipeline behind it and share its round trip).
   */
  postgresRoundTrips: number;
  /** Commands by name (lower case), on both of an instance's connections. */
  redis: Record<string, number>;
  /** Bytes of the messages PUBLISHed. */
  redisPublishedBytes: number;
  /** Bytes Redis sent on for them: each message × the subscribers (connections) it reached. */
  redisDeliveredBytes: number;
}

/** SQLite transactions committed, and the writes (savepoints) they held. */
export interface SqliteCounts {
  commits: number;
  writes: number;
}

const postgres = new Map<string, number>();
let postgresRoundTrips = 0;
/** Statements awaiting their answer, per connection. */
const awaiting = new WeakMap<object, number>();
const redis = new Map<string, number>();
let redisPublishedBytes = 0;
let redisDeliveredBytes = 0;
let sqliteCommits = 0;
let sqliteWrites = 0;
/** Labels by statement text, so that each text is shortened once. */
const labels = new Map<string, string>();
let installed = false;

/** "WITH job AS ( INSERT INTO jobs (id, …" → "WITH job AS ( INSERT INTO jobs". */
function labelOf(text: string): string {
  let label = labels.get(text);
  if (label === undefined) {
    label = text.replaceAll(/\s+/g, ' ').trim().split(' (')[0]?.slice(0, 60) ?? text;
    if (/^WITH /.test(label)) {
      const verb = /(?<!FOR )\b(INSERT INTO|UPDATE|DELETE FROM) (\w+)/.exec(text);
      if (verb) label = `WITH … ${verb[1]} ${verb[2]}`;
    }
    labels.set(text, label);
  }
  return label;
}

const bump = (counts: Map<string, number>, key: string) =>
  counts.set(key, (counts.get(key) ?? 0) + 1);

export function installCommandCounts(): void {
  if (installed) return;
  installed = true;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text?: string })?.text;
    if (typeof text === 'string') bump(postgres, labelOf(text));
    const before = awaiting.get(this) ?? 0;
    if (before === 0) postgresRoundTrips++;
    awaiting.set(this, before + 1);
    const answered = () => awaiting.set(this, (awaiting.get(this) ?? 1) - 1);
    // The answer comes to a callback (the pool's form) or settles the returned promise.
    const callback = args.findIndex((arg) => typeof arg === 'function');
    if (callback >= 0) {
      const inner = args[callback] as (...results: unknown[]) => unknown;
      args[callback] = (...results: unknown[]) => {
        answered();
        return inner(...results);
      };
    }
    const result = query.apply(this, args);
    if (callback < 0 && result instanceof Promise) result.then(answered, answered);
    return result;
  } as typeof pg.Client.prototype.query;
  const sendCommand = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, ...args) {
    const [command] = args;
    const name = command.name.toLowerCase();
    bump(redis, name);
    if (name === 'publish') {
      const message = command.args[1];
      const bytes = typeof message === 'string' ? Buffer.byteLength(message) : 0;
      redisPublishedBytes += bytes;
      // PUBLISH answers with the number of subscribers that received the message.
      command.promise.then(
        (receivers) => {
          redisDeliveredBytes += bytes * Number(receivers);
        },
        () => {},
      );
    }
    return sendCommand.apply(this, args);
  };
  const exec = DatabaseSync.prototype.exec;
  DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
    if (sql === 'COMMIT') sqliteCommits++;
    else if (sql.startsWith('SAVEPOINT')) sqliteWrites++;
    return exec.call(this, sql);
  };
}

export function commandCounts(): CommandCounts {
  return {
    postgres: Object.fromEntries(postgres),
    postgresRoundTrips,
    redis: Object.fromEntries(redis),
    redisPublishedBytes,
    redisDeliveredBytes,
  };
}

export function sqliteCounts(): SqliteCounts {
  return { commits: sqliteCommits, writes: sqliteWrites };
}

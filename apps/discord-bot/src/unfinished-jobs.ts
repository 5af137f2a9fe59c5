/**
 * The bot's only state: the messages of jobs it has not finished yet, in a small SQLite file
 * under BOT_DATA_DIR, so that a restarted bot finishes them (job-runner.ts `resume`). Each
 * entry holds an interaction token, a secret that lets anyone edit the message for 15 minutes:
 * the file is readable by its owner only, and entries go as soon as their message is final.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { UnfinishedJob, UnfinishedJobsPort } from './job-runner.ts';

export const UNFINISHED_JOBS_FILE = 'unfinished-jobs.sqlite';

interface Row {
  interaction_id: string;
  job_id: string;
  user_id: string;
  ping_when_done: number;
  attachment_limit_bytes: number;
  application_id: string;
  interaction_token: string;
  channel_id: string;
  guild_id: string | null;
  message_id: string | null;
  interaction_created_at: number;
}

export class UnfinishedJobs implements UnfinishedJobsPort {
  readonly path: string;
  readonly #db: DatabaseSync;

  private constructor(path: string) {
    this.path = path;
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS unfinished_jobs (
        interaction_id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        ping_when_done INTEGER NOT NULL,
        attachment_limit_bytes INTEGER NOT NULL,
        application_id TEXT NOT NULL,
        interaction_token TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        guild_id TEXT,
        message_id TEXT,
        interaction_created_at INTEGER NOT NULL
      ) STRICT`);
  }

  /** Opens (or creates) the file in `dataDir`, creating the directory if need be. */
  static open(dataDir: string): UnfinishedJobs {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const path = join(dataDir, UNFINISHED_JOBS_FILE);
    // Owner-only before SQLite writes a byte (its journal takes the file's mode).
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    return new UnfinishedJobs(path);
  }

  save(job: UnfinishedJob): void {
    const { message } = job;
    this.#db
      .prepare(
        `INSERT INTO unfinished_jobs VALUES (
          :interactionId, :jobId, :userId, :pingWhenDone, :attachmentLimitBytes, :applicationId,
          :token, :channelId, :guildId, :messageId, :interactionCreatedAt)
        ON CONFLICT (interaction_id) DO UPDATE SET message_id = excluded.message_id`,
      )
      .run({
        interactionId: job.interactionId,
        jobId: job.jobId,
        userId: job.userId,
        pingWhenDone: job.pingWhenDone ? 1 : 0,
        attachmentLimitBytes: job.attachmentLimitBytes,
        applicationId: message.applicationId,
        token: message.token,
        channelId: message.channelId,
        guildId: message.guildId,
        messageId: message.messageId,
        interactionCreatedAt: message.interactionCreatedAt,
      });
  }

  remove(interactionId: string): void {
    this.#db.prepare('DELETE FROM unfinished_jobs WHERE interaction_id = ?').run(interactionId);
  }

  /** Oldest first. */
  list(): UnfinishedJob[] {
    const rows = this.#db
      .prepare('SELECT * FROM unfinished_jobs ORDER BY interaction_created_at, interaction_id')
      .all() as unknown as Row[];
    return rows.map((row) => ({
      interactionId: row.interaction_id,
      jobId: row.job_id,
      userId: row.user_id,
      pingWhenDone: row.ping_when_done === 1,
      attachmentLimitBytes: row.attachment_limit_bytes,
      message: {
        applicationId: row.application_id,
        token: row.interaction_token,
        channelId: row.channel_id,
        guildId: row.guild_id,
        messageId: row.message_id,
        interactionCreatedAt: row.interaction_created_at,
      },
    }));
  }

  close(): void {
    this.#db.close();
  }
}

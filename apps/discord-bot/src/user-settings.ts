/**
 * Per-user /imagine defaults (`/settings`), kept beside the unfinished jobs in the bot's
 * SQLite file under BOT_DATA_DIR (`UnfinishedJobs.open` creates it owner-only). Values are
 * the gateway's enum names as the user picked them; whether a model is still offered is
 * decided when they are used (imagine-request.ts `withDefaults`).
 */
import { DatabaseSync } from 'node:sqlite';
import type { ImageSize, Model, OutputFormat } from '@zimage/client';
import type { UserDefaults } from './imagine-request.ts';

export interface UserSettingsPort {
  get(userId: string): UserDefaults;
  /** Sets the given defaults; absent ones keep their earlier value. */
  update(userId: string, defaults: UserDefaults): UserDefaults;
  clear(userId: string): void;
}

interface Row {
  model: string | null;
  size: string | null;
  format: string | null;
}

export class UserSettings implements UserSettingsPort {
  readonly #db: DatabaseSync;

  /** `path`: the bot's SQLite file (`UnfinishedJobs#path`). */
  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS user_settings (
        user_id TEXT PRIMARY KEY,
        model TEXT,
        size TEXT,
        format TEXT
      ) STRICT`);
  }

  get(userId: string): UserDefaults {
    const row = this.#db
      .prepare('SELECT model, size, format FROM user_settings WHERE user_id = ?')
      .get(userId) as Row | undefined;
    return {
      ...(row?.model ? { model: row.model as Model } : {}),
      ...(row?.size ? { size: row.size as ImageSize } : {}),
      ...(row?.format ? { format: row.format as OutputFormat } : {}),
    };
  }

  update(userId: string, defaults: UserDefaults): UserDefaults {
    this.#db
      .prepare(
        `INSERT INTO user_settings (user_id, model, size, format) VALUES (:userId, :model, :size, :format)
        ON CONFLICT (user_id) DO UPDATE SET
          model = coalesce(excluded.model, model),
          size = coalesce(excluded.size, size),
          format = coalesce(excluded.format, format)`,
      )
      .run({
        userId,
        model: defaults.model ?? null,
        size: defaults.size ?? null,
        format: defaults.format ?? null,
      });
    return this.get(userId);
  }

  clear(userId: string): void {
    this.#db.prepare('DELETE FROM user_settings WHERE user_id = ?').run(userId);
  }

  close(): void {
    this.#db.close();
  }
}

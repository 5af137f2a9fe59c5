/**
 * Images in a local directory (DATA_DIR/images/<jobId>/<fileName>), for one machine. A staged
 * file is renamed into place, so a reader never sees a half-written image.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ImageBackend, ObjectInfo } from './image-store.ts';

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

export function createLocalBackend(options: { dir: string }): ImageBackend {
  const root = path.resolve(options.dir);
  const fileOf = (key: string) => path.join(root, ...key.split('/'));

  async function info(key: string): Promise<ObjectInfo | null> {
    try {
      const found = await stat(fileOf(key));
      return found.isFile() ? { size: found.size, lastModified: found.mtime } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  return {
    async put(key, file) {
      const target = fileOf(key);
      // Twice: another attempt's delete may remove the job's directory once it looks empty.
      for (let tries = 1; ; tries++) {
        await mkdir(path.dirname(target), { recursive: true });
        try {
          return await rename(file, target);
        } catch (error) {
          if (!isMissing(error) || tries === 2) throw error;
        }
      }
    },

    head: info,

    async read(key, range) {
      if ((await info(key)) === null) return null;
      const stream = createReadStream(fileOf(key), range);
      // Opened, or gone since the stat (retention): null, as for a missing image.
      return new Promise((resolve, reject) => {
        stream.once('ready', () => resolve(stream));
        stream.once('error', (error) => (isMissing(error) ? resolve(null) : reject(error)));
      });
    },

    async delete(keys) {
      for (const key of keys) await rm(fileOf(key), { force: true });
      // An emptied job directory goes too; one still holding another attempt's images stays.
      const dirs = new Set(keys.map((key) => path.dirname(fileOf(key))));
      for (const dir of dirs) await rmdir(dir).catch(() => {});
    },

    async *list(prefix) {
      const jobs =
        prefix === '' ? await readdir(root).catch(() => []) : [prefix.replace(/\/$/, '')];
      for (const job of jobs) {
        const names = await readdir(path.join(root, job)).catch((error: unknown) => {
          if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
          throw error;
        });
        for (const name of names) {
          const found = await info(`${job}/${name}`);
          if (found !== null) yield { key: `${job}/${name}`, size: found.size };
        }
      }
    },

    close: async () => {},
  };
}

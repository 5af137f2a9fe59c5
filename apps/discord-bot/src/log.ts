/** One JSON line per event on stderr: readable by people and by log collectors alike. */
import type { Log } from './job-runner.ts';

export const jsonLog: Log = (level, message, details = {}) => {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, message, ...details })}\n`,
  );
};

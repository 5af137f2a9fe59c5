/**
 * The one structured logger type of the gateway: fields first, then the message. A pino logger
 * (src/logger.ts makes the gateway's) fits as is.
 */
type LogFn = (fields: Record<string, unknown>, message: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger that adds `bindings` to every line (e.g. `{ component: 'jobs' }`). */
  child(bindings: Record<string, unknown>): Logger;
}

/** For tests and embedders that want no output. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

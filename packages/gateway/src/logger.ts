/**
 * Structured JSON logs (pino). Secrets never reach a log line: credential-bearing fields are
 * redacted by name wherever they appear (up to two levels deep), and paths that carry a secret
 * (webhook tokens) are logged through `loggablePath`.
 */
import { type LoggerOptions, pino } from 'pino';
import type { Logger } from './domain/logger.ts';

const SECRET_FIELDS = [
  'authorization',
  'apiKey',
  'adminApiKey',
  'pixazoApiKey',
  'secret',
  'token',
  'webhookToken',
  'webhookUrl',
  'ocp-apim-subscription-key',
  'x-graphql-csrf-token',
];

/** pino path syntax: dotted for identifiers, bracketed for header names with dashes. */
function member(prefix: string, field: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(field)) return prefix ? `${prefix}.${field}` : field;
  return `${prefix}["${field}"]`;
}

const REDACT_PATHS = SECRET_FIELDS.flatMap((field) =>
  ['', '*', '*.*', 'headers', '*.headers'].map((prefix) => member(prefix, field)),
);

export interface LoggerSettings {
  level?: string | undefined;
  /** Where lines go; default stdout. Tests pass a stream to read them. */
  destination?: pino.DestinationStream | undefined;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: 'zimage-gateway' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

const WEBHOOK_PATH = /^(\/webhooks\/pixazo\/[^/]+\/)[^/?#]+/;

/** A request path safe to log: the secret token of a webhook path is replaced. */
export function loggablePath(path: string): string {
  return path.replace(WEBHOOK_PATH, '$1[redacted]');
}

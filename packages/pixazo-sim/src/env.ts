/**
 * The simulator's settings from the environment (for `pnpm sim`). Every bad value is reported
 * as one line naming the variable, without echoing keys (they are secrets).
 *
 * Exported apart, as `@zimage/pixazo-sim/env`, for the gateway's configuration: this module
 * imports nothing, so reading the embedded simulator's settings never loads the simulator.
 */
export interface SimEnv {
  port: number;
  host: string;
  keys: Record<string, number>;
  timeScale: number;
}

export class EnvError extends Error {
  override name = 'EnvError';
  readonly variable: string;
  /** What is wrong, without the variable's name (for callers that phrase their own line). */
  readonly problem: string;

  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.variable = variable;
    this.problem = problem;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** An unset or empty variable means its default. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function parseSimEnv(env: Env): SimEnv {
  return {
    port: parsePort(read(env, 'PIXAZO_SIM_PORT')),
    host: read(env, 'PIXAZO_SIM_HOST') ?? read(env, 'HOST') ?? '127.0.0.1',
    keys: Object.fromEntries(parseSimKeys(read(env, 'PIXAZO_SIM_KEYS'))),
    timeScale: parseSimTimeScale(read(env, 'PIXAZO_SIM_TIME_SCALE')),
  };
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 4010;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new EnvError('PIXAZO_SIM_PORT', `must be a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

/** PIXAZO_SIM_TIME_SCALE; also read by the gateway, which embeds the simulator. */
export function parseSimTimeScale(value: string | undefined): number {
  if (value === undefined) return 1;
  const scale = Number(value);
  if (!(Number.isFinite(scale) && scale > 0)) {
    throw new EnvError('PIXAZO_SIM_TIME_SCALE', 'must be a number greater than 0');
  }
  return scale;
}

const KEYS_FORMAT = 'key=balanceUsd[,key=balanceUsd...]';

/** One PIXAZO_SIM_KEYS entry: a key and its starting balance in USD. */
export type SimKeyEntry = readonly [key: string, balanceUsd: number];

/**
 * PIXAZO_SIM_KEYS as entries in the order given: the gateway uses the first as its own Pixazo
 * key, and an object would move integer-like keys first. Keys are secrets of a sort, so errors
 * name an entry by its position.
 */
export function parseSimKeys(value: string | undefined): SimKeyEntry[] {
  if (value === undefined) return [['dev-key', 5]];
  const entries: SimKeyEntry[] = [];
  value.split(',').forEach((entry, i) => {
    const where = `entry ${i + 1}`;
    const separator = entry.lastIndexOf('=');
    const key = entry.slice(0, separator).trim();
    const balance = entry.slice(separator + 1).trim();
    if (separator < 0 || !key || !/^(\d+\.?\d*|\.\d+)$/.test(balance)) {
      throw new EnvError(
        'PIXAZO_SIM_KEYS',
        `must be ${KEYS_FORMAT}; ${where} is not key=balanceUsd`,
      );
    }
    if (entries.some(([seen]) => seen === key)) {
      throw new EnvError('PIXAZO_SIM_KEYS', `repeats a key (${where})`);
    }
    entries.push([key, Number(balance)]);
  });
  return entries;
}

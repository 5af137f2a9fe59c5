/**
 * Node processes for tests that need the real thing: `pnpm start`'s entry point, or the
 * simulator running apart from the gateway as Pixazo does in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GATEWAY_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const SIM_MAIN = fileURLToPath(new URL('../../../pixazo-sim/src/main.ts', import.meta.url));
/** The simulator started with PIXAZO_SIM_OPTIONS (JSON PixazoSimOptions): sim-with-options.ts. */
export const SIM_WITH_OPTIONS = fileURLToPath(new URL('./sim-with-options.ts', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with group 1 of the first match of `pattern` in stdout, as soon as it is printed. */
  printed(pattern: RegExp): Promise<string>;
}

/**
 * Node's compile cache, shared by every process a test starts: a start of the gateway then
 * costs about a quarter less CPU (measured here), which matters for tests that restart it often.
 */
const COMPILE_CACHE = join(tmpdir(), 'zimage-test-node-compile-cache');

/** Runs a TypeScript entry point with this Node (24) and only the given environment. */
export function startProcess(script: string, env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [script], {
    cwd: GATEWAY_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'silent',
      NODE_COMPILE_CACHE: COMPILE_CACHE,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let closed = false;
  /** Checks of pending `printed` calls, run on every chunk of stdout and when the process ends. */
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const check of [...watchers]) check();
  };
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  // 'close' comes after the last output of a process that has exited.
  child.on('close', () => {
    closed = true;
    notify();
  });
  const printed = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(stdout)?.[1];
        if (match === undefined && !closed) return;
        watchers.delete(check);
        if (match !== undefined) resolve(match);
        else reject(new Error(`exited before printing ${pattern}: ${stderr}`));
      };
      watchers.add(check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, printed };
}

/** The gateway's dashboard URL, once it says it is listening. */
export const gatewayStarted = (run: RunningProcess) =>
  run.printed(/dashboard at (http:\/\/\S+?)\/ /);

/** Sends the signal and resolves with the exit code (null when killed by a signal). */
export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill(signal);
  const [code] = await exited;
  return code as number | null;
}

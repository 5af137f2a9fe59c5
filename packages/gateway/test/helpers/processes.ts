/**
 * Node processes for tests that need the real thing: `pnpm start`'s entry point, or the
 * simulator running apart from the gateway as Pixazo does in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const GATEWAY_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const SIM_MAIN = fileURLToPath(new URL('../../../pixazo-sim/src/main.ts', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

/** Runs a TypeScript entry point with this Node (24) and only the given environment. */
export function startProcess(script: string, env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [script], {
    cwd: GATEWAY_DIR,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

/** Resolves with the first match of `pattern` in the process's stdout (group 1). */
export async function waitForOutput(run: RunningProcess, pattern: RegExp): Promise<string> {
  for (;;) {
    const match = pattern.exec(run.stdout())?.[1];
    if (match) return match;
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(`exited early: ${run.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The gateway's dashboard URL, once it says it is listening. */
export const gatewayStarted = (run: RunningProcess) =>
  waitForOutput(run, /dashboard at (http:\/\/\S+?)\/ /);

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

/**
 * `pnpm start` as a process: a bad setting stops it with one line; without PIXAZO_API_KEY it
 * runs the simulator in-process, prints a generated admin key once with the dashboard URL,
 * serves with that key, and exits 0 on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-main-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: packageDir,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

/** Resolves with stdout once the gateway says where its dashboard is. */
async function started(run: ReturnType<typeof start>): Promise<string> {
  for (;;) {
    const url = /dashboard at (http:\/\/\S+?)\/ /.exec(run.stdout())?.[1];
    if (url) return url;
    if (run.child.exitCode !== null) throw new Error(`exited early: ${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  return code as number | null;
}

describe('main', () => {
  it('stops with one line naming the variable when a setting is bad', async () => {
    const run = start({ PORT: 'eighty', DATA_DIR: dataDir });
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(1);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PORT');
  });

  it('starts with the embedded simulator, prints the admin key once, stops on SIGTERM', async () => {
    const env = { PORT: '0', DATA_DIR: dataDir, PIXAZO_SIM_TIME_SCALE: '0.01' };
    const first = start(env);
    const url = await started(first);
    const secret = /^\s+(zk_\S+)$/m.exec(first.stdout())?.[1] as string;
    expect(secret).toBeDefined();
    expect(first.stdout()).toContain(`${url}/#key=${encodeURIComponent(secret)}`);

    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: '{ viewer { name scopes } }' }),
    });
    expect(await response.json()).toEqual({
      data: { viewer: { name: 'admin', scopes: ['admin'] } },
    });
    expect(await stop(first.child)).toBe(0);

    const second = start(env);
    await started(second);
    expect(second.stdout()).not.toContain('zk_');
    expect(await stop(second.child)).toBe(0);
  });
});

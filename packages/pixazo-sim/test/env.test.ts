import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EnvError, parseSimEnv } from '../src/env.ts';

describe('parseSimEnv', () => {
  it('has the documented defaults, with empty values meaning unset', () => {
    const defaults = { port: 4010, host: '127.0.0.1', keys: { 'dev-key': 5 }, timeScale: 1 };
    expect(parseSimEnv({})).toEqual(defaults);
    expect(parseSimEnv({ PIXAZO_SIM_PORT: '', PIXAZO_SIM_KEYS: ' ' })).toEqual(defaults);
  });

  it('reads every variable', () => {
    expect(
      parseSimEnv({
        PIXAZO_SIM_PORT: '0',
        PIXAZO_SIM_HOST: '::1',
        PIXAZO_SIM_KEYS: 'alpha=1.5, beta=0',
        PIXAZO_SIM_TIME_SCALE: '0.01',
      }),
    ).toEqual({ port: 0, host: '::1', keys: { alpha: 1.5, beta: 0 }, timeScale: 0.01 });
    expect(parseSimEnv({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it.each([
    ['PIXAZO_SIM_PORT', 'http'],
    ['PIXAZO_SIM_PORT', '65536'],
    ['PIXAZO_SIM_PORT', '-1'],
    ['PIXAZO_SIM_TIME_SCALE', '0'],
    ['PIXAZO_SIM_TIME_SCALE', 'fast'],
    ['PIXAZO_SIM_KEYS', 'secret-key'],
    ['PIXAZO_SIM_KEYS', 'secret-key=lots'],
    ['PIXAZO_SIM_KEYS', '=5'],
    ['PIXAZO_SIM_KEYS', 'secret-key=1,secret-key=2'],
  ])('rejects %s=%s, naming the variable', (variable, value) => {
    let error: unknown;
    try {
      parseSimEnv({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).variable).toBe(variable);
    expect((error as EnvError).message).toMatch(new RegExp(`^${variable} `));
    expect((error as EnvError).message).not.toContain('secret-key');
  });
});

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, ...env },
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
  return { child, output: () => ({ stdout, stderr }) };
}

describe('main (pnpm sim)', () => {
  it('stops on a bad variable with one line naming it, exit code 1', async () => {
    const { child, output } = runMain({ PIXAZO_SIM_TIME_SCALE: 'soon' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    const lines = output().stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pixazo-sim: PIXAZO_SIM_TIME_SCALE /);
  });

  it('prints its base URL, serves, and exits cleanly on SIGTERM', async () => {
    const { child, output } = runMain({ PIXAZO_SIM_PORT: '0', PIXAZO_SIM_KEYS: 'k=1' });
    let url: string | undefined;
    while (!url) {
      await once(child.stdout, 'data');
      url = /http:\/\/127\.0\.0\.1:\d+/.exec(output().stdout)?.[0];
    }
    const health = await fetch(`${url}/_sim/health`);
    expect(await health.json()).toEqual({ ok: true, jobs: 0 });
    expect(output().stdout).not.toContain('k=1');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});

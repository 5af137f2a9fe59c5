/** The zimage CLI as a child process against the simulator. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PixazoSim, startPixazoSim } from '@zimage/pixazo-sim';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES, PIXEL_SIZES, PixazoClient } from '../src/index.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const KEY = 'cli-secret-key-77';

let sim: PixazoSim;
let outDir: string;
beforeAll(async () => {
  sim = await startPixazoSim({ keys: { [KEY]: 10 }, timeScale: 0.01, rateLimit: false });
  outDir = await mkdtemp(join(tmpdir(), 'zimage-cli-'));
});
afterAll(async () => {
  await sim.close();
  await rm(outDir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function zimage(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const simEnv = () => ({ PIXAZO_API_KEY: KEY, PIXAZO_BASE_URL: sim.url });

describe('zimage CLI', () => {
  it('generate saves real images, prints their paths, and reports status on stderr', async () => {
    const run = await zimage(
      [
        'generate',
        'a quiet harbour',
        '--size',
        'portrait_3_4',
        '--format',
        'jpeg',
        '--images',
        '2',
        '--steps',
        '1',
        '--out',
        outDir,
      ],
      simEnv(),
    );
    expect(run.stderr).toMatch(
      /\[\s*\d+\.\ds\] QUEUED z-image-turbo-834_\S+ \(Z-Image Turbo, 2 image\(s\), \$0\.016\)/,
    );
    expect(run.stderr).toMatch(/\[\s*\d+\.\ds\] COMPLETED\n$/);
    expect(run.code).toBe(0);
    const paths = run.stdout.trim().split('\n');
    expect(paths).toHaveLength(2);
    for (const path of paths) {
      expect(path.startsWith(outDir)).toBe(true);
      expect(path.endsWith('.jpg')).toBe(true);
      const meta = await sharp(path).metadata();
      expect(meta.format).toBe('jpeg');
      expect({ width: meta.width, height: meta.height }).toEqual(PIXEL_SIZES.portrait_3_4);
    }
    expect(run.stdout + run.stderr).not.toContain(KEY);
  });

  it('status prints the status JSON', async () => {
    const client = new PixazoClient({ apiKey: KEY, baseUrl: sim.url });
    const { requestId } = await client.submit({ prompt: 'x', imageSize: 'square_1_1' });
    const run = await zimage(['status', requestId], simEnv());
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout);
    expect(printed).toMatchObject({ requestId, model: 'turbo', modelId: 'z-image-turbo-834' });
    expect(JOB_STATUSES).toContain(printed.status);
  });

  it.each([
    ['a missing PIXAZO_API_KEY', ['generate', 'x'], {}, /^zimage: PIXAZO_API_KEY is not set/],
    [
      'a bad flag value, named as typed',
      ['generate', 'x', '--steps', '0'],
      { PIXAZO_API_KEY: KEY },
      /^zimage: --steps must be an integer from 1 to 50/,
    ],
    [
      'guidance on Turbo',
      ['generate', 'x', '--guidance', '3'],
      { PIXAZO_API_KEY: KEY },
      /^zimage: --guidance is not supported by Z-Image Turbo/,
    ],
    ['an unknown command', ['paint'], {}, /^zimage: unknown command "paint"/],
  ])('%s: one line, exit code 2', async (_case, args, env, line) => {
    const run = await zimage(args, env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(line);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
  });

  it('a Pixazo error is one line without a stack or the key, exit code 1', async () => {
    const run = await zimage(['generate', 'x'], {
      PIXAZO_API_KEY: 'not-a-known-key-1',
      PIXAZO_BASE_URL: sim.url,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^zimage: Pixazo answered HTTP 401: Access denied due to invalid subscription key/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toContain('not-a-known-key-1');
  });

  it('--help prints usage', async () => {
    const run = await zimage(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('zimage generate "<prompt>"');
    expect(run.stdout).toContain('PIXAZO_API_KEY');
  });
});

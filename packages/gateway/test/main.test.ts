/**
 * `pnpm start` as a process: a bad setting, or an S3 bucket that refuses the credentials, stops
 * it with one line; without PIXAZO_API_KEY it runs the simulator in-process, prints a generated
 * admin key once with the dashboard URL, serves with that key, and exits 0 on SIGTERM; with
 * PIXAZO_API_KEY it never loads the simulator.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayStarted, startProcess, stopProcess } from './helpers/processes.ts';
import { startTestS3 } from './helpers/s3-server.ts';

const RECORD_MODULES = fileURLToPath(
  new URL('./fixtures/record-loaded-modules.ts', import.meta.url),
);

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-main-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const start = (env: Record<string, string>) => startProcess('src/main.ts', env);

describe('main', () => {
  it('stops with one line naming the variable when a setting is bad', async () => {
    const run = start({ PORT: 'eighty', DATA_DIR: dataDir });
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(1);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PORT');
  });

  it('stops with one line when the S3 bucket refuses its credentials, and starts with the right ones', async () => {
    const s3 = await startTestS3();
    try {
      const env = {
        PORT: '0',
        DATA_DIR: path.join(dataDir, 's3'),
        PIXAZO_SIM_TIME_SCALE: '0.01',
        IMAGE_STORE: 's3',
        S3_BUCKET: 'zimage-main',
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      };
      const refused = start({ ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
      const [code] = await once(refused.child, 'exit');
      expect(code).toBe(1);
      const lines = refused.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/S3 opening bucket zimage-main failed: .*AWS_SECRET_ACCESS_KEY/);
      expect(lines[0]).not.toContain('not-the-secret');

      const started = start({ ...env, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey });
      await gatewayStarted(started);
      expect(await stopProcess(started.child)).toBe(0);
    } finally {
      await s3.close();
    }
  });

  it('starts with the embedded simulator, prints the admin key once, stops on SIGTERM', async () => {
    const env = { PORT: '0', DATA_DIR: dataDir, PIXAZO_SIM_TIME_SCALE: '0.01' };
    const first = start(env);
    const url = await gatewayStarted(first);
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
    expect(await stopProcess(first.child)).toBe(0);

    const second = start(env);
    await gatewayStarted(second);
    expect(second.stdout()).not.toContain('zk_');
    expect(await stopProcess(second.child)).toBe(0);
  });

  it('loads the simulator only when no PIXAZO_API_KEY is set', async () => {
    /** The simulator's own modules a start loaded (file names under pixazo-sim/src/). */
    const simModulesLoaded = async (name: string, env: Record<string, string>) => {
      const list = path.join(dataDir, `${name}-modules.txt`);
      const run = start({
        ...env,
        PORT: '0',
        DATA_DIR: path.join(dataDir, name),
        NODE_OPTIONS: `--import=${RECORD_MODULES}`,
        LOADED_MODULES_FILE: list,
      });
      await gatewayStarted(run);
      expect(await stopProcess(run.child)).toBe(0);
      const urls = (await readFile(list, 'utf8')).split('\n');
      return urls.flatMap((url) => /\/pixazo-sim\/src\/(.+)$/.exec(url)?.[1] ?? []);
    };

    // Nothing listens on port 9; starting does not call Pixazo.
    const production = { PIXAZO_API_KEY: 'pixazo-key', PIXAZO_BASE_URL: 'http://127.0.0.1:9' };
    // Reading the settings of an embedded simulator is all a production start takes from it.
    expect(await simModulesLoaded('production', production)).toEqual(['env.ts']);
    expect(await simModulesLoaded('embedded', { PIXAZO_SIM_TIME_SCALE: '0.01' })).toContain(
      'sim.ts',
    );
  });
});

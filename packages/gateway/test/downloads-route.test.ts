/**
 * Zip downloads end to end: a key asks POST /downloads for a signed link (one job, or a filter
 * of the `jobs` query), the link alone (no header, as a browser follows it) streams a zip that
 * Info-ZIP's `unzip` reads, holding every image of the jobs byte for byte as /images serves
 * them, named after prompt and job. Bad requests name their field; other keys' jobs, revoked
 * keys and tampered or expired links get nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayHarness, GENERATE, startGatewayHarness } from './helpers/gateway-harness.ts';

const run = promisify(execFile);

let h: GatewayHarness;
let dir: string;
let key: string;
interface Job {
  id: string;
  images: { url: string }[];
}
let fox: Job;
let lighthouse: Job;

async function generate(prompt: string, numImages: number): Promise<Job> {
  const { body } = await h.graphql(GENERATE, {
    key,
    variables: { input: { prompt, imageSize: 'SQUARE_1_1', numImages } },
  });
  const { id } = (body.data as { generateImage: { id: string } }).generateImage;
  return (await h.waitForTerminal(key, id)) as unknown as Job;
}

function ask(body: unknown, secret: string | null = key) {
  return fetch(`${h.gateway.url}/downloads`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret ? { authorization: `Bearer ${secret}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

async function link(body: unknown, secret?: string): Promise<string> {
  const response = await ask(body, secret);
  expect(response.status).toBe(201);
  const answer = (await response.json()) as { url: string; expiresAt: string };
  expect(Date.parse(answer.expiresAt)).toBeGreaterThan(Date.now());
  return answer.url;
}

/** The zip's entries as `unzip` reads them (it checks every CRC first). */
async function unzipped(url: string): Promise<Map<string, Buffer>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/zip');
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.zip`);
  await writeFile(file, Buffer.from(await response.arrayBuffer()));
  await run('unzip', ['-tq', file]);
  const names = (await run('unzip', ['-Z1', file])).stdout.split('\n').filter(Boolean);
  const entries = new Map<string, Buffer>();
  for (const name of names) {
    const { stdout } = await run('unzip', ['-p', file, name], {
      encoding: 'buffer',
      maxBuffer: 64 * 2 ** 20,
    });
    entries.set(name, stdout);
  }
  return entries;
}

const bytesOf = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());

beforeAll(async () => {
  h = await startGatewayHarness();
  dir = await mkdtemp(path.join(tmpdir(), 'zimage-zip-'));
  key = (await h.createKey()).secret;
  fox = await generate('A red fox in snow!', 2);
  lighthouse = await generate('a lighthouse at dusk', 1);
});
afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('zip downloads', () => {
  it('holds every image of the job, byte-exact, named after prompt and job', async () => {
    const entries = await unzipped(await link({ jobId: fox.id }));
    expect([...entries.keys()]).toEqual([
      `a-red-fox-in-snow_${fox.id}_1.png`,
      `a-red-fox-in-snow_${fox.id}_2.png`,
    ]);
    const served = await Promise.all(fox.images.map((image) => bytesOf(image.url)));
    expect([...entries.values()]).toEqual(served);
  });

  it('downloads a filtered history, newest first, bounded by first', async () => {
    const all = await unzipped(await link({ status: 'COMPLETED' }));
    expect([...all.keys()].map((name) => name.slice(name.indexOf('_') + 1))).toEqual([
      `${lighthouse.id}_1.png`,
      `${fox.id}_1.png`,
      `${fox.id}_2.png`,
    ]);
    expect(all.get(`a-lighthouse-at-dusk_${lighthouse.id}_1.png`)).toEqual(
      await bytesOf(lighthouse.images[0]?.url as string),
    );
    const searched = await unzipped(await link({ search: 'FOX', first: 1 }));
    expect(searched.size).toBe(2);
    expect((await unzipped(await link({ first: 1 }))).size).toBe(1);
  });

  it('names the field of a bad request, and needs a key', async () => {
    const field = async (body: unknown) =>
      ((await (await ask(body)).json()) as { error: { field?: string } }).error.field;
    expect(await field({ first: 101 })).toBe('first');
    expect(await field({ status: 'DONE' })).toBe('status');
    expect(await field({ model: 'turbo' })).toBe('model');
    expect(await field({ jobId: fox.id, status: 'COMPLETED' })).toBe('jobId');
    expect(await field({ colour: 'red' })).toBe('colour');
    expect((await ask({ jobId: fox.id }, null)).status).toBe(401);
    expect((await ask({ jobId: fox.id }, 'zk_not-a-key')).status).toBe(401);
  });

  it("gives nothing of another key's jobs, nor by a tampered link", async () => {
    const stranger = (await h.createKey()).secret;
    const theirs = await link({ jobId: fox.id }, stranger);
    expect((await fetch(theirs)).status).toBe(404);
    // An archive with no entries: its end record alone (which unzip calls "empty").
    const none = Buffer.from(await (await fetch(await link({}, stranger))).arrayBuffer());
    expect(none).toEqual(Buffer.from([0x50, 0x4b, 5, 6, ...new Array(18).fill(0)]));

    const url = await link({ jobId: fox.id });
    const [payload, mac] = (url.split('/').pop() as string).split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()),
        keyId: 'key_x',
      }),
    ).toString('base64url');
    expect((await fetch(url.replace(payload as string, forged))).status).toBe(404);
    expect((await fetch(`${url.slice(0, -2)}xx`)).status).toBe(404);
    expect(mac).toBeTruthy();
  });

  it('refuses a link whose key was revoked since', async () => {
    const { secret, record } = await h.createKey();
    const url = await link({ jobId: fox.id }, secret);
    await h.gateway.store.revokeApiKey(record.id);
    expect((await fetch(url)).status).toBe(401);
  });
});

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createImageStore,
  type ImageStore,
  imageContentType,
  imageUrlPath,
} from '../src/jobs/image-store.ts';

const JOB_ID = 'job_0192f0c4a1b27c3d8e9f001122334455';

function image(format: 'png' | 'jpeg' | 'webp', width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .toFormat(format)
    .toBuffer();
}

describe('image store', () => {
  let dataDir: string;
  let images: ImageStore;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-images-'));
    images = createImageStore({ dataDir });
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['png', 'image/png', /\.png$/],
    ['jpeg', 'image/jpeg', /\.jpg$/],
    ['webp', 'image/webp', /\.webp$/],
  ] as const)(
    'saves a %s with its size and type under images/<jobId>/',
    async (format, type, ext) => {
      const bytes = await image(format, 64, 48);
      const stored = await images.save(JOB_ID, bytes);
      expect(stored).toMatchObject({
        width: 64,
        height: 48,
        contentType: type,
        byteLength: bytes.length,
      });
      expect(stored.fileName).toMatch(ext);
      const file = images.resolve(JOB_ID, stored.fileName);
      expect(file).toBe(path.join(dataDir, 'images', JOB_ID, stored.fileName));
      expect(await readFile(file as string)).toEqual(bytes);
      expect(imageContentType(stored.fileName)).toBe(type);
      expect(imageUrlPath(JOB_ID, stored.fileName)).toBe(`/images/${JOB_ID}/${stored.fileName}`);
    },
  );

  it('gives every image its own unguessable name', async () => {
    const bytes = await image('png', 8, 8);
    const a = await images.save(JOB_ID, bytes);
    const b = await images.save(JOB_ID, bytes);
    expect(a.fileName).not.toBe(b.fileName);
  });

  it('refuses bytes that are not a PNG, JPEG or WebP image', async () => {
    await expect(images.save(JOB_ID, new TextEncoder().encode('<svg/>'))).rejects.toThrow();
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .gif()
      .toBuffer();
    await expect(images.save(JOB_ID, gif)).rejects.toThrow(/PNG, JPEG or WebP/);
  });

  it.each([
    [JOB_ID, '../../secret.png'],
    [JOB_ID, 'AAAAAAAAAAAAAAAAAAAAAA.png/..'],
    [JOB_ID, '.AAAAAAAAAAAAAAAAAAAAAA.png.tmp'],
    [JOB_ID, 'AAAAAAAAAAAAAAAAAAAAAA.svg'],
    ['..', 'AAAAAAAAAAAAAAAAAAAAAA.png'],
    ['job_../x', 'AAAAAAAAAAAAAAAAAAAAAA.png'],
    [`${JOB_ID}/..`, 'AAAAAAAAAAAAAAAAAAAAAA.png'],
  ])('resolves no path for %j / %j', (jobId, fileName) => {
    expect(images.resolve(jobId, fileName)).toBeNull();
  });

  it("removes the images one attempt saved, and keeps another attempt's images of the job", async () => {
    const loser = await images.save(JOB_ID, await image('png', 8, 8));
    const winner = await images.save(JOB_ID, await image('png', 8, 8));
    await images.remove(JOB_ID, [loser.fileName]);
    await expect(stat(images.resolve(JOB_ID, loser.fileName) as string)).rejects.toThrow();
    expect((await stat(images.resolve(JOB_ID, winner.fileName) as string)).size).toBe(
      winner.byteLength,
    );
  });

  it('refuses to remove a name this store does not make', async () => {
    await expect(images.remove(JOB_ID, ['../secret.png'])).rejects.toThrow(/Not an image name/);
  });
});

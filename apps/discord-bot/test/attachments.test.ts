import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { prepareImages } from '../src/attachments.ts';
import { completedJob } from './helpers/fixtures.ts';

/** A gradient with grain: PNG stores it nearly raw, lossy formats much smaller, like a photo. */
async function noisyPng(size: number): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size * 3);
  for (let i = 0; i < pixels.length; i++) {
    const pixel = Math.floor(i / 3);
    pixels[i] = ((pixel % size) + Math.floor(pixel / size) + ((i * 7919) % 23)) % 256;
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

function sourceOf(images: Record<string, Buffer>) {
  return async (url: string) => {
    const data = images[url];
    if (!data) throw new Error(`404 ${url}`);
    return data;
  };
}

describe('prepareImages', () => {
  it('attaches images that fit as they are', async () => {
    const png = await noisyPng(64);
    const job = completedJob({ numImages: 2 });
    const source = sourceOf(Object.fromEntries(job.images.map((i) => [i.url, png])));
    const prepared = await prepareImages(job, source, 10 * 1024 * 1024);
    expect(prepared.links).toEqual([]);
    expect(prepared.files.map((f) => [f.name, f.contentType, f.data])).toEqual([
      [`${job.id}-1.png`, 'image/png', png],
      [`${job.id}-2.png`, 'image/png', png],
    ]);
  });

  it('re-encodes a PNG over the upload limit as WebP or JPEG', async () => {
    const png = await noisyPng(256);
    const job = completedJob();
    const limit = Math.floor(png.length / 2);
    const prepared = await prepareImages(job, sourceOf({ [job.images[0]?.url ?? '']: png }), limit);
    const [file] = prepared.files;
    expect(file?.contentType).toMatch(/^image\/(webp|jpeg)$/);
    expect(file?.data.length).toBeLessThanOrEqual(limit);
    expect(file?.name).toMatch(/\.(webp|jpg)$/);
    expect((await sharp(file?.data).metadata()).width).toBe(256);
  });

  it('links an image that still does not fit, or cannot be downloaded', async () => {
    const png = await noisyPng(128);
    const job = completedJob({ numImages: 2 });
    const [first, second] = job.images;
    const failures: unknown[] = [];
    const prepared = await prepareImages(job, sourceOf({ [first?.url ?? '']: png }), 100, (error) =>
      failures.push(error),
    );
    expect(prepared.files).toEqual([]);
    expect(prepared.links).toEqual([
      { index: 0, url: first?.url },
      { index: 1, url: second?.url },
    ]);
    expect(failures).toHaveLength(1);
  });
});

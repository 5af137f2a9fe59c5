/**
 * Metadata written into the simulator's real PNG, JPEG and WebP files, read back by libvips
 * (sharp): the prompt and parameters are there, the pixels are those of the original, an XMP
 * packet the file had is replaced, and bytes that are not a file this can walk come back as
 * they went in.
 */
import { renderImage } from '@zimage/pixazo-sim';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { embedMetadata, type ImageMetadata } from '../src/images/embed-metadata.ts';
import { imageMetadataOf } from '../src/images/job-metadata.ts';
import { newJob, newKey } from './fixtures/records.ts';

const PROMPT = 'a "fox" <&> in the snow, café 🦊\nsecond line';
const METADATA: ImageMetadata = {
  prompt: PROMPT,
  parameters: [
    ['model', 'Z_IMAGE_TURBO'],
    ['numInferenceSteps', 8],
    ['enableSafetyChecker', true],
    ['jobId', 'job_0123abc'],
  ],
  software: 'zimage',
};

/** The text of an XML element, its character references and entities decoded. */
function xmlText(xml: string, element: string): string | undefined {
  const text = new RegExp(`<${element}(?: [^>]*)?>([^<]*)</${element}>`).exec(xml)?.[1];
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text?.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (_, ref: string) =>
    ref.startsWith('#x') || ref.startsWith('#X')
      ? String.fromCodePoint(Number.parseInt(ref.slice(2), 16))
      : ref.startsWith('#')
        ? String.fromCodePoint(Number(ref.slice(1)))
        : (entities[ref] ?? ''),
  );
}

/** What a reader of the file's XMP finds. */
async function readXmp(bytes: Buffer) {
  const { xmp } = await sharp(bytes).metadata();
  const packet = xmp?.toString('utf8') ?? '';
  return {
    description: xmlText(packet, 'rdf:li'),
    creatorTool: xmlText(packet, 'xmp:CreatorTool'),
    steps: xmlText(packet, 'zimage:numInferenceSteps'),
    jobId: xmlText(packet, 'zimage:jobId'),
    packets: packet.split('<x:xmpmeta').length - 1,
  };
}

const pixels = (bytes: Buffer) => sharp(bytes).raw().toBuffer();

const simFile = (format: 'png' | 'jpeg' | 'webp') =>
  renderImage({ prompt: PROMPT, imageSize: 'landscape_16_9', format, index: 0 });

describe('embedMetadata', () => {
  it.each(['png', 'jpeg', 'webp'] as const)(
    'writes the prompt and parameters into a %s file as XMP, leaving its pixels as they were',
    async (format) => {
      const original = await simFile(format);
      const result = embedMetadata(original, METADATA);
      expect(result.embedded).toBe(true);
      expect(await readXmp(result.bytes)).toEqual({
        description: PROMPT,
        creatorTool: 'zimage',
        steps: '8',
        jobId: 'job_0123abc',
        packets: 1,
      });
      const read = await sharp(result.bytes).metadata();
      expect(read).toMatchObject({ format, width: 1024, height: 576 });
      expect((await pixels(result.bytes)).equals(await pixels(original))).toBe(true);
    },
  );

  it('gives a PNG the parameters text chunk that Automatic1111-style readers use', async () => {
    const { bytes } = embedMetadata(await simFile('png'), METADATA);
    const { comments } = await sharp(bytes).metadata();
    expect(comments).toEqual([
      {
        keyword: 'parameters',
        text: `${PROMPT}\nmodel: Z_IMAGE_TURBO, numInferenceSteps: 8, enableSafetyChecker: true, jobId: job_0123abc`,
      },
      { keyword: 'Description', text: PROMPT },
      { keyword: 'Software', text: 'zimage' },
    ]);
  });

  it.each([
    ['lossless WebP with alpha (VP8L)', (s: Sharp) => s.ensureAlpha(0.5).webp({ lossless: true })],
    ['lossy WebP with alpha (VP8X, ALPH)', (s: Sharp) => s.ensureAlpha(0.5).webp()],
    ['WebP with XMP already', (s: Sharp) => s.webp().withXmp(OLD_XMP)],
    ['JPEG with XMP already', (s: Sharp) => s.jpeg().withXmp(OLD_XMP)],
    ['PNG with XMP already', (s: Sharp) => s.png().withXmp(OLD_XMP)],
    ['JPEG with Exif', (s: Sharp) => s.jpeg().withExif({ IFD0: { Copyright: 'kept' } })],
  ])('writes into a %s, replacing any XMP it had', async (_kind, encode) => {
    const original = await encode(sharp(await simFile('png'))).toBuffer();
    const result = embedMetadata(original, METADATA);
    expect(result.embedded).toBe(true);
    expect(await readXmp(result.bytes)).toMatchObject({ description: PROMPT, packets: 1 });
    expect((await sharp(result.bytes).metadata()).hasAlpha).toBe(
      (await sharp(original).metadata()).hasAlpha,
    );
    expect((await pixels(result.bytes)).equals(await pixels(original))).toBe(true);
    const exif = (await sharp(original).metadata()).exif;
    if (exif) expect((await sharp(result.bytes).metadata()).exif).toEqual(exif);
  });

  it('keeps a JFIF APP0 segment right after SOI, where JFIF readers look for it', async () => {
    const jpeg = await simFile('jpeg');
    const app0 = Buffer.from('ffe000104a46494600010100000100010000', 'hex');
    const jfif = Buffer.concat([jpeg.subarray(0, 2), app0, jpeg.subarray(2)]);
    const { bytes } = embedMetadata(jfif, METADATA);
    expect(bytes.subarray(0, 2 + app0.length).equals(jfif.subarray(0, 2 + app0.length))).toBe(true);
    expect(bytes.readUInt16BE(2 + app0.length)).toBe(0xffe1);
    expect(await readXmp(bytes)).toMatchObject({ description: PROMPT, packets: 1 });
    expect((await pixels(bytes)).equals(await pixels(jpeg))).toBe(true);
  });

  it('pads an XMP chunk of odd size, and gives the RIFF its new size', async () => {
    const webp = await simFile('webp');
    const sizes = new Set<number>();
    for (const prompt of ['odd or even', 'odd or even?']) {
      const { bytes } = embedMetadata(webp, { ...METADATA, prompt });
      const xmpAt = bytes.indexOf('XMP ', 12, 'latin1');
      sizes.add(bytes.readUInt32LE(xmpAt + 4) % 2);
      expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
      expect((await readXmp(bytes)).description).toBe(prompt);
      expect((await pixels(bytes)).equals(await pixels(webp))).toBe(true);
    }
    expect(sizes).toEqual(new Set([0, 1]));
  });

  it('writes characters XML forbids as U+FFFD, so the packet stays well-formed', async () => {
    const prompt = 'a bell\u0007 and half an emoji \ud83e';
    const { bytes } = embedMetadata(await simFile('jpeg'), { ...METADATA, prompt });
    expect((await readXmp(bytes)).description).toBe('a bell\ufffd and half an emoji \ufffd');
  });

  it('leaves a JPEG as it is when the packet exceeds one segment (64 KiB)', async () => {
    const jpeg = await simFile('jpeg');
    const result = embedMetadata(jpeg, { ...METADATA, prompt: '&'.repeat(20_000) });
    expect(result).toMatchObject({ embedded: false, reason: expect.stringContaining('segment') });
    expect(result.bytes).toBe(jpeg);
  });

  it('returns bytes it cannot walk unchanged, saying why', async () => {
    const png = await simFile('png');
    const jpeg = await simFile('jpeg');
    const webp = await simFile('webp');
    const garbled = [
      Buffer.from('not an image at all'),
      png.subarray(0, png.length / 2),
      jpeg.subarray(0, 200),
      Buffer.concat([webp.subarray(0, 4), Buffer.from([0xff, 0xff, 0xff, 0x7f]), webp.subarray(8)]),
      Buffer.alloc(0),
    ];
    for (const bytes of garbled) {
      const result = embedMetadata(bytes, METADATA);
      expect(result).toMatchObject({ embedded: false, reason: expect.any(String) });
      expect(result.bytes).toBe(bytes);
    }
  });
});

const OLD_XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">' +
  '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">old</rdf:li></rdf:Alt></dc:title>' +
  '</rdf:Description></rdf:RDF></x:xmpmeta>';

describe('imageMetadataOf', () => {
  it("spells the job's parameters as GenerateImageInput takes them, without absent ones", () => {
    const key = newKey();
    const turbo = newJob(key, { prompt: PROMPT });
    expect(imageMetadataOf(turbo)).toEqual({
      prompt: PROMPT,
      parameters: [
        ['model', 'Z_IMAGE_TURBO'],
        ['imageSize', 'SQUARE_1_1'],
        ['numInferenceSteps', 8],
        ['numImages', 1],
        ['enableSafetyChecker', true],
        ['outputFormat', 'PNG'],
        ['acceleration', 'NONE'],
        ['jobId', turbo.id],
      ],
      software: 'zimage',
    });
    const base = newJob(key, { model: 'base', guidanceScale: 4.5, acceleration: 'ultra_fast' });
    expect(imageMetadataOf(base).parameters).toContainEqual(['guidanceScale', 4.5]);
    expect(imageMetadataOf(base).parameters).toContainEqual(['acceleration', 'ULTRA_FAST']);
  });
});

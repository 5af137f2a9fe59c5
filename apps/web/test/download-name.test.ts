import { describe, expect, it } from 'vitest';
import {
  downloadHref,
  downloadName,
  MAX_SLUG_LENGTH,
  promptSlug,
} from '../src/features/gallery/download-name.ts';

const png = { contentType: 'image/png', url: '/images/job_1/abc.png' };

describe('download names', () => {
  it('are the prompt as a slug, the job id and the image number', () => {
    expect(downloadName({ id: 'job_01abc', prompt: 'A red fox in snow!' }, 0, png)).toBe(
      'a-red-fox-in-snow_job_01abc_1.png',
    );
    expect(
      downloadName({ id: 'job_2', prompt: 'x' }, 2, { contentType: 'image/jpeg', url: '/a.jpeg' }),
    ).toBe('x_job_2_3.jpg');
  });

  it('fold accents and symbols, and fall back to "image" when nothing is left', () => {
    expect(promptSlug('Crème brûlée — 35 mm, f/1.8')).toBe('creme-brulee-35-mm-f-1-8');
    expect(promptSlug('🦊🦊 ✨')).toBe('image');
  });

  it('bound the slug, cutting at a word boundary', () => {
    const slug = promptSlug('a lighthouse on a basalt cliff at dawn '.repeat(10));
    expect(slug.length).toBeLessThanOrEqual(MAX_SLUG_LENGTH);
    expect(slug.startsWith('a-lighthouse-on-a-basalt-cliff')).toBe(true);
    expect(slug.endsWith('-')).toBe(false);
    expect(promptSlug('x'.repeat(200))).toHaveLength(MAX_SLUG_LENGTH);
  });
});

describe('download links', () => {
  it("point at the page's own origin, where the download attribute is honoured", () => {
    expect(downloadHref('http://10.0.0.5:4000/images/job_1/a.png')).toBe('/images/job_1/a.png');
    expect(downloadHref('/images/job_1/a.png')).toBe('/images/job_1/a.png');
    expect(downloadHref('https://cdn.example/x.png')).toBe('https://cdn.example/x.png');
  });
});

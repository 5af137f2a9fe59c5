import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { escapeXml, imageSvg, renderImage, wrapText } from '../src/images.ts';

describe('image rendering', () => {
  it('escapes XML and drops control characters, so any prompt renders', async () => {
    const prompt = 'a <b>bold</b> "cat" & \'dog\' \u0007 ]]> <!-- x -->';
    const svg = imageSvg({ prompt, imageSize: 'square_1_1', format: 'png', index: 0 });
    expect(svg).toContain('a &lt;b&gt;bold&lt;/b&gt; &quot;cat&quot; &amp; &apos;dog&apos;');
    expect(svg).not.toContain('\u0007');
    const file = await renderImage({ prompt, imageSize: 'portrait_3_4', format: 'png', index: 0 });
    expect(await sharp(file).metadata()).toMatchObject({ width: 768, height: 1024 });
  });

  it('is deterministic per prompt and index', async () => {
    const spec = {
      prompt: 'dunes',
      imageSize: 'landscape_16_9',
      format: 'webp',
      index: 1,
    } as const;
    const [a, b, other] = await Promise.all([
      renderImage(spec),
      renderImage(spec),
      renderImage({ ...spec, index: 2 }),
    ]);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(other)).toBe(false);
  });

  it('derives the gradient from the prompt', () => {
    const svg = (prompt: string) =>
      imageSvg({ prompt, imageSize: 'square_1_1', format: 'png', index: 0 });
    const colours = (s: string) => s.match(/stop-color="[^"]+"/g);
    expect(colours(svg('a cat'))).not.toEqual(colours(svg('a dog')));
  });

  it('escapes each XML special character', () => {
    expect(escapeXml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&apos;');
  });

  it('wraps words, cuts long ones, and ends cut text with an ellipsis', () => {
    expect(wrapText('one two three four', 9, 5)).toEqual(['one two', 'three', 'four']);
    expect(wrapText('abcdefghij', 4, 5)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('aa bb cc dd', 2, 2)).toEqual(['aa', 'b…']);
  });
});

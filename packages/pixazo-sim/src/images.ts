/**
 * The images the simulated CDN serves: real PNG/JPEG/WebP files of the requested size showing
 * the prompt over a gradient whose colours come from a hash of the prompt. Rendering depends
 * only on (prompt, size, format, index), so the same request always yields the same bytes.
 * Files are rendered on first download and kept in a byte-bounded LRU.
 */
import { createHash } from 'node:crypto';
import { type ImageSize, type OutputFormat, PIXEL_SIZES } from '@zimage/pixazo-spec';
import sharp from 'sharp';
import { ByteLru } from './lru.ts';

export interface ImageSpec {
  prompt: string;
  imageSize: ImageSize;
  format: OutputFormat;
  /** 0-based position within the job's images. */
  index: number;
}

export class ImageCache {
  readonly #files: ByteLru;
  /** Renders under way, so concurrent downloads of one file render it once. */
  readonly #rendering = new Map<string, Promise<Buffer>>();

  constructor(maxBytes: number) {
    this.#files = new ByteLru(maxBytes);
  }

  async get(spec: ImageSpec): Promise<Buffer> {
    const key = cacheKey(spec);
    const cached = this.#files.get(key);
    if (cached) return cached;
    let pending = this.#rendering.get(key);
    if (!pending) {
      pending = renderImage(spec).finally(() => this.#rendering.delete(key));
      this.#rendering.set(key, pending);
      this.#files.set(key, await pending);
    }
    return pending;
  }
}

function cacheKey(spec: ImageSpec): string {
  const promptHash = createHash('sha256').update(spec.prompt).digest('hex');
  return `${spec.imageSize}:${spec.format}:${spec.index}:${promptHash}`;
}

export async function renderImage(spec: ImageSpec): Promise<Buffer> {
  const image = sharp(Buffer.from(imageSvg(spec))).removeAlpha();
  switch (spec.format) {
    case 'png':
      return image.png().toBuffer();
    case 'jpeg':
      return image.jpeg({ quality: 85 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 85 }).toBuffer();
  }
}

/** The SVG drawn for an image: exported for tests of its escaping. */
export function imageSvg(spec: ImageSpec): string {
  const { width, height } = PIXEL_SIZES[spec.imageSize];
  const hash = createHash('sha256').update(spec.prompt).digest();
  const hue = (byte: number) => Math.round(((hash[byte] ?? 0) / 256) * 360 + spec.index * 47) % 360;
  const from = `hsl(${hue(0)}, 70%, 45%)`;
  const to = `hsl(${hue(1)}, 75%, 25%)`;
  const fontSize = Math.round(width / 24);
  const lineHeight = Math.round(fontSize * 1.3);
  const margin = Math.round(width / 16);
  // DejaVu Sans averages about 0.55 em per character.
  const charsPerLine = Math.max(8, Math.floor((width - 2 * margin) / (fontSize * 0.55)));
  const maxLines = Math.max(1, Math.floor((height * 0.6) / lineHeight));
  const lines = wrapText(printable(spec.prompt), charsPerLine, maxLines);
  const panelHeight = lines.length * lineHeight + 2 * margin;
  const panelTop = Math.round((height - panelHeight) / 2);
  const text = lines
    .map(
      (line, i) =>
        `<text x="${margin * 1.5}" y="${panelTop + margin + (i + 0.8) * lineHeight}">${escapeXml(line)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/>
</linearGradient></defs>
<rect width="100%" height="100%" fill="url(#bg)"/>
<rect x="${margin}" y="${panelTop}" width="${width - 2 * margin}" height="${panelHeight}" rx="${margin / 2}" fill="rgba(0,0,0,0.35)"/>
<g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#ffffff">${text}</g>
<text x="${width - margin}" y="${height - margin / 2}" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="${Math.round(fontSize * 0.6)}" fill="rgba(255,255,255,0.8)">pixazo-sim #${spec.index + 1}</text>
</svg>`;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** Control characters are not allowed in XML at all, even escaped: show them as spaces. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  return text.replace(/[\u0000-\u001f\u007f\ufffe\uffff]/g, ' ');
}

/** Greedy word wrap; over-long words are cut, and text past `maxLines` ends in an ellipsis. */
export function wrapText(text: string, width: number, maxLines: number): string[] {
  const words = text
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((w) => chunks(w, width));
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1] ?? '';
  kept[maxLines - 1] = `${last.slice(0, width - 1)}…`;
  return kept;
}

function chunks(word: string, width: number): string[] {
  // By code point, so that a cut never splits a surrogate pair.
  const chars = Array.from(word);
  const parts: string[] = [];
  for (let i = 0; i < chars.length; i += width) parts.push(chars.slice(i, i + width).join(''));
  return parts;
}

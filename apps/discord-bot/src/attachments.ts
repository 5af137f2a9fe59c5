/**
 * A finished job's images as Discord attachments. Discord refuses a file over the server's
 * upload limit (the interaction says which), so a PNG that is too large is re-encoded as WebP
 * or JPEG, and an image that still does not fit (or cannot be downloaded) becomes a link to
 * the gateway's (absolute) image URL.
 */
import type { Job } from '@zimage/client';
import sharp, { type Sharp } from 'sharp';
import type { LinkedImage } from './presenter.ts';

export interface AttachmentFile {
  name: string;
  data: Buffer;
  contentType: string;
}

export interface PreparedImages {
  files: AttachmentFile[];
  links: LinkedImage[];
}

/** Downloads an image's bytes. */
export type ImageSource = (url: string) => Promise<Buffer>;

/**
 * The gateway's stored images need no key (their unguessable names are the access control),
 * so a plain GET does.
 */
export function downloadImage(timeoutMs = 30_000): ImageSource {
  return async (url) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`Image download answered HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  };
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};

/** Smaller encodings to try, best-looking first. */
const FALLBACK_ENCODINGS = [
  { contentType: 'image/webp', encode: (image: Sharp) => image.webp({ quality: 90 }) },
  { contentType: 'image/jpeg', encode: (image: Sharp) => image.jpeg({ quality: 85 }) },
  { contentType: 'image/webp', encode: (image: Sharp) => image.webp({ quality: 70 }) },
] as const;

async function fitting(
  data: Buffer,
  contentType: string,
  limitBytes: number,
): Promise<{ data: Buffer; contentType: string } | null> {
  if (data.length <= limitBytes) return { data, contentType };
  for (const candidate of FALLBACK_ENCODINGS) {
    const encoded = await candidate.encode(sharp(data)).toBuffer();
    if (encoded.length <= limitBytes) return { data: encoded, contentType: candidate.contentType };
  }
  return null;
}

export async function prepareImages(
  job: Job,
  download: ImageSource,
  limitBytes: number,
  onDownloadError: (error: unknown) => void = () => {},
): Promise<PreparedImages> {
  const prepared = await Promise.all(
    job.images.map(async (image, index): Promise<AttachmentFile | LinkedImage> => {
      try {
        const data = await download(image.url);
        const fit = await fitting(data, image.contentType, limitBytes);
        if (fit) {
          const extension = EXTENSIONS[fit.contentType] ?? 'png';
          return { name: `${job.id}-${index + 1}.${extension}`, ...fit };
        }
      } catch (error) {
        onDownloadError(error);
      }
      return { index, url: image.url };
    }),
  );
  return {
    files: prepared.filter((p): p is AttachmentFile => 'data' in p),
    links: prepared.filter((p): p is LinkedImage => 'url' in p),
  };
}

/**
 * The file name a downloaded image gets (the `download` attribute; images are same-origin
 * `/images/…`): the prompt as a slug, the job id and the image's place in the job, e.g.
 * `a-red-fox-in-snow_job_01h…_1.png`, so a folder of downloads sorts and reads by what they show.
 */
import type { Job } from '../../graphql/operations.ts';

/** Long enough to recognise a prompt, short enough for every file system with the rest. */
export const MAX_SLUG_LENGTH = 60;

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};

/** Lowercase ASCII words joined by dashes, cut at a word boundary when too long. */
export function promptSlug(prompt: string, maxLength = MAX_SLUG_LENGTH): string {
  const slug = prompt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= maxLength) return slug || 'image';
  const cut = slug.slice(0, maxLength + 1);
  const boundary = cut.lastIndexOf('-');
  return (boundary > 0 ? cut.slice(0, boundary) : cut.slice(0, maxLength)).replace(/-+$/, '');
}

/**
 * The image's address on this page's own origin. The gateway writes absolute URLs with its own
 * address (PUBLIC_URL, or where it listens), which differs from the page's behind a proxy or on
 * the dev server, and browsers ignore `download` across origins; the dashboard is served by the
 * gateway (or the dev server proxies `/images`), so the path alone reaches the same file.
 */
export function downloadHref(url: string): string {
  const parsed = new URL(url, window.location.href);
  return parsed.pathname.startsWith('/images/') ? `${parsed.pathname}${parsed.search}` : url;
}

export function downloadName(
  job: Pick<Job, 'id' | 'prompt'>,
  index: number,
  image: Pick<Job['images'][number], 'contentType' | 'url'>,
): string {
  const extension =
    EXTENSIONS[image.contentType] ?? /\.([a-z0-9]+)$/i.exec(image.url)?.[1] ?? 'img';
  return `${promptSlug(job.prompt)}_${job.id}_${index + 1}.${extension}`;
}

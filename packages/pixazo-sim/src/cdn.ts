/** The stand-in for Pixazo's CDN: a completed job's images, no key needed (as on R2). */
import { CONTENT_TYPES } from '@zimage/pixazo-spec';
import type { SimContext } from './context.ts';
import type { SimResponse } from './http.ts';
import { statusAt } from './jobs.ts';
import type { MediaRef } from './paths.ts';
import { fileNotFound } from './responses.ts';

export async function handleMedia(ctx: SimContext, ref: MediaRef): Promise<SimResponse> {
  const now = Date.now();
  const job = ctx.jobs.get(ref.requestId, now);
  if (!job || job.vanished || statusAt(job, now) !== 'COMPLETED') return fileNotFound();
  const { prompt, imageSize, outputFormat, numImages } = job.params;
  if (ref.index >= numImages || ref.format !== outputFormat) return fileNotFound();
  const file = await ctx.images.get({ prompt, imageSize, format: outputFormat, index: ref.index });
  return {
    status: 200,
    headers: {
      'content-type': CONTENT_TYPES[outputFormat],
      'cache-control': 'public, max-age=31536000, immutable',
    },
    body: file,
  };
}

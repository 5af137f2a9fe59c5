import { MODELS, PIXEL_SIZES } from '@zimage/pixazo-spec';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  finalStatus,
  pollToEnd,
  SEED_BASE_MINIMUM_REQUEST,
  SEED_TURBO_FULL_EXAMPLE,
  startSim,
  submitOk,
} from './helpers.ts';

const UUID_V7 = '[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

async function download(url: string) {
  const response = await fetch(url);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { response, bytes, meta: await sharp(bytes).metadata() };
}

describe("the seed's example requests", () => {
  it('accepts the Turbo full example and completes it with a 1024×768 PNG', async () => {
    const sim = await startSim();
    const accepted = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);

    expect(Object.keys(accepted).sort()).toEqual(['polling_url', 'request_id', 'status']);
    expect(accepted.status).toBe('QUEUED');
    expect(accepted.request_id).toMatch(new RegExp(`^z-image-turbo-834_${UUID_V7}$`));
    expect(accepted.polling_url).toBe(`${sim.url}/v2/requests/status/${accepted.request_id}`);

    const done = await finalStatus(sim, accepted.request_id);
    expect(Object.keys(done).sort()).toEqual(
      [
        'completed_at',
        'created_at',
        'error',
        'model_id',
        'output',
        'request_id',
        'status',
        'updated_at',
      ].sort(),
    );
    expect(done).toMatchObject({
      request_id: accepted.request_id,
      status: 'COMPLETED',
      model_id: 'z-image-turbo-834',
      error: null,
      output: { media_type: 'application/octet-stream' },
    });
    expect(done.completed_at).toBe(done.updated_at);
    expect(Date.parse(done.created_at)).toBeLessThan(Date.parse(done.updated_at));
    expect(done.output?.media_url).toHaveLength(1);

    const { response, meta } = await download(done.output?.media_url[0] ?? '');
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(meta).toMatchObject({ format: 'png', width: 1024, height: 768 });
  });

  it('accepts the Base minimum request and fills in the documented defaults', async () => {
    const sim = await startSim();
    const accepted = await submitOk(sim, SEED_BASE_MINIMUM_REQUEST, { model: 'base' });

    expect(accepted.request_id).toMatch(new RegExp(`^z-image-base_${UUID_V7}$`));
    expect(sim.job(accepted.request_id)?.request).toEqual({
      prompt: SEED_BASE_MINIMUM_REQUEST.prompt,
      image_size: 'landscape_4_3',
      num_inference_steps: 28,
      guidance_scale: 4,
      num_images: 1,
      enable_safety_checker: true,
      output_format: 'png',
      acceleration: 'regular',
    });
    const done = await finalStatus(sim, accepted.request_id);
    expect(done).toMatchObject({ status: 'COMPLETED', model_id: 'z-image-base' });
  });
});

describe('status flow', () => {
  it('moves QUEUED → PROCESSING → COMPLETED, in order, with updated_at following', async () => {
    // Base at 28 steps takes ~21.6 s at scale 1: ~2.2 s here, so even on a busy machine the
    // first poll, sent right after the 202, comes within QUEUED (its first ~430 ms).
    const sim = await startSim({ timeScale: 0.1 });
    const { request_id } = await submitOk(sim, SEED_BASE_MINIMUM_REQUEST, { model: 'base' });
    const seen = await pollToEnd(sim, request_id);

    const order = ['QUEUED', 'PROCESSING', 'COMPLETED'];
    const statuses = seen.map((b) => b.status);
    expect(statuses[0]).toBe('QUEUED');
    expect(statuses).toContain('PROCESSING');
    expect(statuses.at(-1)).toBe('COMPLETED');
    const ranks = statuses.map((s) => order.indexOf(s));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));

    for (const body of seen) {
      const terminal = body.status === 'COMPLETED';
      expect(body.output === null).toBe(!terminal);
      expect(body.completed_at === null).toBe(!terminal);
      if (body.status === 'QUEUED') expect(body.updated_at).toBe(body.created_at);
      if (body.status === 'PROCESSING') expect(body.updated_at > body.created_at).toBe(true);
    }
  });

  it('takes longer for Base than for Turbo, as the model table says', async () => {
    const sim = await startSim();
    const turbo = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const base = await submitOk(sim, SEED_BASE_MINIMUM_REQUEST, { model: 'base' });
    const jobs = sim.jobs();
    const span = (id: string) => {
      const job = jobs.find((j) => j.request_id === id);
      return Date.parse(job?.ends_at ?? '') - Date.parse(job?.created_at ?? '');
    };
    expect(span(base.request_id)).toBeGreaterThan(span(turbo.request_id));
    expect(MODELS.base.steps.default).toBe(28);
  });
});

describe('media files', () => {
  const cases = [
    { format: 'png', size: 'square_1_1', model: 'turbo' },
    { format: 'jpeg', size: 'portrait_9_16', model: 'base' },
    { format: 'webp', size: 'landscape_16_9', model: 'turbo' },
  ] as const;

  it.each(cases)(
    'serves $format files at the $size pixel size',
    async ({ format, size, model }) => {
      const sim = await startSim();
      const body = { prompt: `a ${format} lighthouse`, image_size: size, output_format: format };
      const { request_id } = await submitOk(sim, { ...body, num_images: 2 }, { model });
      const done = await finalStatus(sim, request_id);
      const urls = done.output?.media_url ?? [];
      expect(urls).toHaveLength(2);

      const files = await Promise.all(urls.map(download));
      for (const { response, meta } of files) {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe(`image/${format}`);
        expect(meta.format).toBe(format);
        expect({ width: meta.width, height: meta.height }).toEqual(PIXEL_SIZES[size]);
      }
      expect(files[0]?.bytes.equals(files[1]?.bytes ?? Buffer.alloc(0))).toBe(false);
    },
  );

  it('renders the same bytes for the same prompt and index, in another job', async () => {
    const sim = await startSim();
    const body = { prompt: 'a red fox in snow', image_size: 'square_1_1', output_format: 'jpeg' };
    const first = await finalStatus(sim, (await submitOk(sim, body)).request_id);
    const second = await finalStatus(sim, (await submitOk(sim, body)).request_id);
    const other = await finalStatus(
      sim,
      (await submitOk(sim, { ...body, prompt: 'a blue fox in snow' })).request_id,
    );
    const [a, b, c] = await Promise.all(
      [first, second, other].map(async (s) => (await download(s.output?.media_url[0] ?? '')).bytes),
    );
    expect(first.output?.media_url[0]).not.toBe(second.output?.media_url[0]);
    expect(a?.equals(b ?? Buffer.alloc(0))).toBe(true);
    expect(a?.equals(c ?? Buffer.alloc(0))).toBe(false);
  });

  it('answers 404 for files of unknown, unfinished, or mismatched requests', async () => {
    const sim = await startSim({ timeScale: 1 });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    const paths = [
      `/cdn/v1/${request_id}/0.png`, // still running at scale 1
      '/cdn/v1/z-image-turbo-834_unknown/0.png',
      `/cdn/v1/${request_id}/3.png`,
    ];
    for (const path of paths) {
      const response = await fetch(`${sim.url}${path}`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: 'Not Found',
        message: 'The requested file does not exist',
      });
    }
  });

  it('serves only the indexes and the format the job asked for', async () => {
    const sim = await startSim();
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    await finalStatus(sim, request_id);
    const status = (path: string) => fetch(`${sim.url}${path}`).then((r) => r.status);
    expect(await status(`/cdn/v1/${request_id}/0.png`)).toBe(200);
    expect(await status(`/cdn/v1/${request_id}/1.png`)).toBe(404);
    expect(await status(`/cdn/v1/${request_id}/0.webp`)).toBe(404);
  });
});

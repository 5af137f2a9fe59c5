import { describe, expect, it } from 'vitest';
import {
  getStatus,
  KEY,
  KEY_HEADER,
  SEED_BASE_MINIMUM_REQUEST,
  SEED_TURBO_FULL_EXAMPLE,
  startSim,
  submit,
  submitOk,
} from './helpers.ts';

const MISSING_KEY = {
  statusCode: 401,
  message:
    'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
};
const INVALID_KEY = {
  statusCode: 401,
  message:
    'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
};

async function answer(response: Response) {
  return { status: response.status, body: await response.json() };
}

describe('authentication (API gateway style)', () => {
  it('answers 401 without a key, on submit and status', async () => {
    const sim = await startSim();
    expect(await answer(await submit(sim, SEED_TURBO_FULL_EXAMPLE, { key: null }))).toEqual({
      status: 401,
      body: MISSING_KEY,
    });
    expect(await answer(await getStatus(sim, 'z-image-turbo-834_x', null))).toEqual({
      status: 401,
      body: MISSING_KEY,
    });
    expect(sim.jobs()).toEqual([]);
  });

  it('answers 401 with an unknown key, before looking at the model', async () => {
    const sim = await startSim();
    expect(await answer(await submit(sim, SEED_TURBO_FULL_EXAMPLE, { key: 'nope' }))).toEqual({
      status: 401,
      body: INVALID_KEY,
    });
    const unknownModel = await fetch(`${sim.url}/foo/v1/foo-request`, {
      method: 'POST',
      headers: { [KEY_HEADER]: 'nope' },
      body: '{}',
    });
    expect(unknownModel.status).toBe(401);
  });
});

describe('unknown models and routes', () => {
  it("answers the seed's 400 Model not found for an unknown model path", async () => {
    const sim = await startSim();
    const response = await fetch(`${sim.url}/foo/v1/foo-request`, {
      method: 'POST',
      headers: { [KEY_HEADER]: KEY },
      body: JSON.stringify(SEED_TURBO_FULL_EXAMPLE),
    });
    expect(await answer(response)).toEqual({
      status: 400,
      body: { error: 'Model not found', message: "Model 'foo' not found or is disabled" },
    });
  });

  it('answers 404 Resource not found for other paths and methods', async () => {
    const sim = await startSim();
    const requests: [string, string][] = [
      ['GET', '/z-image-turbo-834/v1/z-image-turbo-request'],
      ['GET', '/'],
      ['DELETE', '/v2/requests/status/x'],
    ];
    for (const [method, path] of requests) {
      const response = await fetch(`${sim.url}${path}`, {
        method,
        headers: { [KEY_HEADER]: KEY },
      });
      expect(await answer(response)).toEqual({
        status: 404,
        body: { statusCode: 404, message: 'Resource not found' },
      });
    }
  });

  it('answers 404 for an unknown request id, and for a job of another key', async () => {
    const sim = await startSim({ keys: { [KEY]: 5, other: 5 } });
    const { request_id } = await submitOk(sim, SEED_TURBO_FULL_EXAMPLE);
    for (const [id, key] of [
      ['z-image-turbo-834_unknown', KEY],
      [request_id, 'other'],
    ] as const) {
      expect(await answer(await getStatus(sim, id, key))).toEqual({
        status: 404,
        body: { error: 'Not Found', message: `Request '${id}' not found` },
      });
    }
    expect((await getStatus(sim, request_id)).status).toBe(200);
  });
});

describe('validation (400 naming the field)', () => {
  const turbo = SEED_TURBO_FULL_EXAMPLE;
  const base = SEED_BASE_MINIMUM_REQUEST;
  const cases = [
    { model: 'turbo', body: { image_size: 'square_1_1' }, field: 'prompt' },
    { model: 'turbo', body: { ...turbo, prompt: '   ' }, field: 'prompt' },
    { model: 'turbo', body: { ...turbo, prompt: 'x'.repeat(4001) }, field: 'prompt' },
    { model: 'turbo', body: { prompt: 'a cat' }, field: 'image_size' },
    { model: 'turbo', body: { ...turbo, image_size: 'square' }, field: 'image_size' },
    { model: 'turbo', body: { ...turbo, num_inference_steps: 51 }, field: 'num_inference_steps' },
    { model: 'turbo', body: { ...turbo, num_inference_steps: 2.5 }, field: 'num_inference_steps' },
    { model: 'base', body: { ...base, num_inference_steps: 9 }, field: 'num_inference_steps' },
    { model: 'base', body: { ...base, num_inference_steps: 101 }, field: 'num_inference_steps' },
    { model: 'turbo', body: { ...turbo, num_images: 5 }, field: 'num_images' },
    { model: 'base', body: { ...base, num_images: 0 }, field: 'num_images' },
    { model: 'base', body: { ...base, guidance_scale: 21 }, field: 'guidance_scale' },
    { model: 'turbo', body: { ...turbo, guidance_scale: 4 }, field: 'guidance_scale' },
    { model: 'turbo', body: { ...turbo, acceleration: 'fast' }, field: 'acceleration' },
    { model: 'base', body: { ...base, acceleration: 'none' }, field: 'acceleration' },
    { model: 'turbo', body: { ...turbo, output_format: 'gif' }, field: 'output_format' },
    {
      model: 'turbo',
      body: { ...turbo, enable_safety_checker: 'yes' },
      field: 'enable_safety_checker',
    },
  ] as const;

  it.each(cases)('$model: rejects a bad $field', async ({ model, body, field }) => {
    const sim = await startSim();
    const { status, body: error } = await answer(await submit(sim, body, { model }));
    expect(status).toBe(400);
    expect(error).toEqual({ error: 'Bad Request', message: expect.any(String), field });
    expect(error.message).toContain(field);
    expect(sim.jobs()).toEqual([]);
    expect(sim.balanceOf(KEY)).toBe(5);
  });

  it.each([
    ['malformed JSON', '{"prompt": '],
    ['a JSON array', '[1, 2]'],
    ['an empty body', ''],
  ])('rejects %s naming the body', async (_, raw) => {
    const sim = await startSim();
    expect(await answer(await submit(sim, raw))).toEqual({
      status: 400,
      body: {
        error: 'Bad Request',
        message: 'The request body must be a JSON object',
        field: 'body',
      },
    });
  });

  it('ignores fields Pixazo does not know', async () => {
    const sim = await startSim();
    const { request_id } = await submitOk(sim, { ...SEED_TURBO_FULL_EXAMPLE, seed: 42 });
    expect(sim.job(request_id)?.request).not.toHaveProperty('seed');
  });

  it('answers 413 for a body over 64 KiB, and the server keeps serving', async () => {
    const sim = await startSim();
    const huge = { ...SEED_TURBO_FULL_EXAMPLE, padding: 'x'.repeat(70 * 1024) };
    const { status, body } = await answer(await submit(sim, huge));
    expect(status).toBe(413);
    expect(body).toMatchObject({ error: 'Payload Too Large' });
    expect((await submit(sim, SEED_TURBO_FULL_EXAMPLE)).status).toBe(202);
  });

  it('rejects an X-Webhook-URL that is not an http(s) URL', async () => {
    const sim = await startSim();
    const response = await submit(sim, SEED_TURBO_FULL_EXAMPLE, {
      headers: { 'X-Webhook-URL': 'ftp://example.com/hook' },
    });
    expect(await answer(response)).toMatchObject({
      status: 400,
      body: { error: 'Bad Request', field: 'X-Webhook-URL' },
    });
  });
});

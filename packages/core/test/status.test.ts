import { describe, expect, it } from 'vitest';
import {
  estimateCost,
  PixazoError,
  parseStatusBody,
  settledCostMicroUsd,
  ValidationError,
} from '../src/index.ts';
import { statusBody, TURBO_ID } from './helpers/test-server.ts';

function invalid(body: unknown): PixazoError {
  try {
    parseStatusBody(body);
  } catch (error) {
    if (error instanceof PixazoError) return error;
    throw error;
  }
  throw new Error('expected INVALID_RESPONSE');
}

describe('parseStatusBody', () => {
  it("reads the seed's completed example into camelCase", () => {
    const status = parseStatusBody({
      request_id: TURBO_ID,
      status: 'COMPLETED',
      model_id: 'z-image-turbo-834',
      error: null,
      output: {
        media_url: ['https://pub-582b.r2.dev/v1/x/output.ext'],
        media_type: 'application/octet-stream',
      },
      created_at: '2026-03-31T10:00:00.000Z',
      updated_at: '2026-03-31T10:00:15.000Z',
      completed_at: '2026-03-31T10:00:15.000Z',
    });
    expect(status).toEqual({
      requestId: TURBO_ID,
      status: 'COMPLETED',
      modelId: 'z-image-turbo-834',
      model: 'turbo',
      error: null,
      mediaUrls: ['https://pub-582b.r2.dev/v1/x/output.ext'],
      mediaType: 'application/octet-stream',
      createdAt: '2026-03-31T10:00:00.000Z',
      updatedAt: '2026-03-31T10:00:15.000Z',
      completedAt: '2026-03-31T10:00:15.000Z',
    });
  });

  it("reads the seed's ERROR example, with missing timestamps", () => {
    const status = parseStatusBody({
      request_id: 'z-image-base_019d',
      status: 'ERROR',
      model_id: 'z-image-base',
      error: 'Description of the error',
      output: null,
    });
    expect(status).toMatchObject({
      status: 'ERROR',
      model: 'base',
      error: 'Description of the error',
      mediaUrls: [],
      createdAt: null,
    });
  });

  it('accepts raw JSON text, a single media_url string and a lowercase status', () => {
    const status = parseStatusBody(
      JSON.stringify(
        statusBody({ status: 'completed', output: { media_url: 'http://127.0.0.1/a.png' } }),
      ),
    );
    expect(status.status).toBe('COMPLETED');
    expect(status.mediaUrls).toEqual(['http://127.0.0.1/a.png']);
  });

  it.each([
    ['not JSON', '{nope', 'not JSON'],
    ['no request_id', { status: 'QUEUED' }, 'request_id'],
    ['unknown status', statusBody({ status: 'DONE' }), 'status'],
    [
      'COMPLETED without media',
      statusBody({ status: 'COMPLETED', output: null }),
      'output.media_url',
    ],
    [
      'non-http media url',
      statusBody({ status: 'COMPLETED', output: { media_url: ['file:///etc/passwd'] } }),
      'output.media_url.0',
    ],
    ['bad timestamp', statusBody({ created_at: 'yesterday' }), 'created_at'],
  ])('names what is wrong: %s', (_case, body, named) => {
    const error = invalid(body);
    expect(error.code).toBe('INVALID_RESPONSE');
    expect(error.message).toContain(named);
  });

  it('keeps the request id on an invalid body that has one', () => {
    expect(invalid(statusBody({ status: 'DONE' })).requestId).toBe(TURBO_ID);
  });
});

describe('estimateCost', () => {
  it('prices images per model in exact micro-USD', () => {
    expect(estimateCost({ prompt: 'p', imageSize: 'square_1_1' })).toEqual({
      model: 'turbo',
      numImages: 1,
      perImageMicroUsd: 8000,
      microUsd: 8000,
      usd: 0.008,
    });
    expect(
      estimateCost({ model: 'base', prompt: 'p', imageSize: 'square_1_1', numImages: 3 }).microUsd,
    ).toBe(30_000);
  });

  it('validates first, and ERROR jobs cost nothing', () => {
    expect(() => estimateCost({ prompt: '', imageSize: 'square_1_1' })).toThrow(ValidationError);
    const estimate = estimateCost({ prompt: 'p', imageSize: 'square_1_1', numImages: 2 });
    expect(settledCostMicroUsd(estimate, 'ERROR')).toBe(0);
    expect(settledCostMicroUsd(estimate, 'FAILED')).toBe(16_000);
    expect(settledCostMicroUsd(estimate, 'COMPLETED')).toBe(16_000);
  });
});

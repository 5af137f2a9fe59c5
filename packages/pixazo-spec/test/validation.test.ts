import { describe, expect, it } from 'vitest';
import {
  ACCELERATIONS,
  IMAGE_SIZES,
  MODEL_LIST,
  type ModelSpec,
  OUTPUT_FORMATS,
  parseRequestBody,
  toRequestBody,
  ValidationError,
  validateGenerateInput,
  withinCharacterLimit,
} from '../src/index.ts';

const base = { prompt: 'a lighthouse at dusk', imageSize: 'square_1_1' } as const;

function rejection(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

function bounds(range: { min: number; max: number }) {
  return [
    { value: range.min - 1, ok: false },
    { value: range.min, ok: true },
    { value: range.max, ok: true },
    { value: range.max + 1, ok: false },
  ];
}

describe.each(MODEL_LIST.map((spec) => [spec.key, spec] as [string, ModelSpec]))(
  'validateGenerateInput for %s',
  (model, spec) => {
    const input = { ...base, model: spec.key };

    it('fills every default from the model table', () => {
      const params = validateGenerateInput(input);
      expect(params).toEqual({
        model,
        prompt: base.prompt,
        imageSize: 'square_1_1',
        numInferenceSteps: spec.steps.default,
        guidanceScale: spec.guidanceScale?.default ?? null,
        numImages: spec.numImages.default,
        enableSafetyChecker: true,
        outputFormat: 'png',
        acceleration: spec.defaultAcceleration,
      });
    });

    it.each(bounds(spec.steps))('numInferenceSteps $value → ok=$ok', ({ value, ok }) => {
      const run = () => validateGenerateInput({ ...input, numInferenceSteps: value });
      if (ok) expect(run().numInferenceSteps).toBe(value);
      else {
        const error = rejection(run);
        expect(error.field).toBe('numInferenceSteps');
        expect(error.message).toContain(`from ${spec.steps.min} to ${spec.steps.max}`);
      }
    });

    it('rejects non-integer steps', () => {
      const error = rejection(() =>
        validateGenerateInput({ ...input, numInferenceSteps: spec.steps.min + 0.5 }),
      );
      expect(error.field).toBe('numInferenceSteps');
    });

    it.each(bounds(spec.numImages))('numImages $value → ok=$ok', ({ value, ok }) => {
      const run = () => validateGenerateInput({ ...input, numImages: value });
      if (ok) expect(run().numImages).toBe(value);
      else {
        const error = rejection(run);
        expect(error.field).toBe('numImages');
        expect(error.message).toContain(`from ${spec.numImages.min} to ${spec.numImages.max}`);
      }
    });

    if (spec.guidanceScale) {
      const guidance = spec.guidanceScale;
      it.each([
        { value: guidance.min - 0.01, ok: false },
        { value: guidance.min, ok: true },
        { value: 7.5, ok: true },
        { value: guidance.max, ok: true },
        { value: guidance.max + 0.01, ok: false },
      ])('guidanceScale $value → ok=$ok', ({ value, ok }) => {
        const run = () => validateGenerateInput({ ...input, guidanceScale: value });
        if (ok) expect(run().guidanceScale).toBe(value);
        else expect(rejection(run).field).toBe('guidanceScale');
      });
    } else {
      it('rejects any guidanceScale', () => {
        const error = rejection(() => validateGenerateInput({ ...input, guidanceScale: 4 }));
        expect(error.field).toBe('guidanceScale');
        expect(error.message).toContain('not supported');
      });
    }

    it.each(ACCELERATIONS.map((a) => ({ acceleration: a, ok: spec.accelerations.includes(a) })))(
      'acceleration $acceleration → ok=$ok',
      ({ acceleration, ok }) => {
        const run = () => validateGenerateInput({ ...input, acceleration });
        if (ok) expect(run().acceleration).toBe(acceleration);
        else expect(rejection(run).field).toBe('acceleration');
      },
    );

    it.each(IMAGE_SIZES)('accepts imageSize %s', (imageSize) => {
      expect(validateGenerateInput({ ...input, imageSize }).imageSize).toBe(imageSize);
    });

    it.each(OUTPUT_FORMATS)('accepts outputFormat %s', (outputFormat) => {
      expect(validateGenerateInput({ ...input, outputFormat }).outputFormat).toBe(outputFormat);
    });

    it.each([
      ['prompt', { prompt: '' }],
      ['prompt', { prompt: '   ' }],
      ['prompt', { prompt: 'x'.repeat(4001) }],
      ['prompt', { prompt: '🌊'.repeat(4001) }],
      ['imageSize', { imageSize: 'square' }],
      ['imageSize', { imageSize: undefined }],
      ['outputFormat', { outputFormat: 'gif' }],
      ['enableSafetyChecker', { enableSafetyChecker: 'yes' }],
      ['numImages', { numImages: '2' }],
      ['seed', { seed: 42 }],
    ])('names %s when it is wrong', (field, change) => {
      const error = rejection(() =>
        validateGenerateInput({ ...input, ...change } as unknown as Parameters<
          typeof validateGenerateInput
        >[0]),
      );
      expect(error.field).toBe(field);
      expect(error.code).toBe('VALIDATION_ERROR');
    });

    it('counts the prompt in characters (code points), not UTF-16 units', () => {
      const waves = '🌊'.repeat(4000); // 8,000 UTF-16 units
      expect(validateGenerateInput({ ...input, prompt: waves }).prompt).toBe(waves);
      expect(
        parseRequestBody(spec.key, {
          ...toRequestBody(validateGenerateInput(input)),
          prompt: waves,
        }).prompt,
      ).toBe(waves);
    });

    it('round-trips through the wire body the simulator parses', () => {
      const params = validateGenerateInput({ ...input, numImages: 2, outputFormat: 'webp' });
      expect(parseRequestBody(spec.key, toRequestBody(params))).toEqual(params);
    });
  },
);

describe('model selection', () => {
  it('defaults to turbo and rejects unknown models by name', () => {
    expect(validateGenerateInput(base).model).toBe('turbo');
    const error = rejection(() =>
      validateGenerateInput({ ...base, model: 'ultra' } as unknown as Parameters<
        typeof validateGenerateInput
      >[0]),
    );
    expect(error.field).toBe('model');
  });

  it('omits guidance_scale from Turbo wire bodies and keeps it for Base', () => {
    expect(toRequestBody(validateGenerateInput(base))).not.toHaveProperty('guidance_scale');
    expect(toRequestBody(validateGenerateInput({ ...base, model: 'base' })).guidance_scale).toBe(4);
  });

  it('names snake_case fields when parsing wire bodies', () => {
    const error = rejection(() =>
      parseRequestBody('base', { prompt: 'x', image_size: 'square_1_1', num_inference_steps: 5 }),
    );
    expect(error.field).toBe('num_inference_steps');
  });
});

describe('withinCharacterLimit', () => {
  it.each([
    ['', 0, true],
    ['abc', 3, true],
    ['abcd', 3, false],
    ['🌊🌊🌊', 3, true], // 6 UTF-16 units, 3 characters
    ['🌊🌊🌊🌊', 3, false],
    ['a🌊b', 3, true],
    ['\ud83c\ud83c\ud83c', 3, true], // lone surrogates count one each
    ['x'.repeat(7), 3, false], // past 2 × max units: known without counting
  ])('%j within %d → %s', (text, max, ok) => {
    expect(withinCharacterLimit(text, max)).toBe(ok);
  });
});

import { describe, expect, it } from 'vitest';
import { editedOptions, rerunOptions } from '../src/rerun.ts';
import { BASE, completedJob, MODELS } from './helpers/fixtures.ts';

describe('rerunOptions', () => {
  const base = completedJob({ model: 'Z_IMAGE_BASE', numInferenceSteps: 40, guidanceScale: 6 });

  it('re-rolls the same request', () => {
    expect(rerunOptions(base, 'reroll', MODELS)).toEqual({
      prompt: base.prompt,
      model: 'Z_IMAGE_BASE',
      size: 'SQUARE_1_1',
      steps: 40,
      images: 1,
      format: 'PNG',
      guidance: 6,
      safety: true,
      acceleration: BASE.defaultAcceleration,
    });
  });

  it('varies into as many images as the model makes at once', () => {
    expect(rerunOptions(base, 'vary', MODELS)).toMatchObject({
      images: BASE.maxImages,
      steps: 40,
      guidance: 6,
    });
  });

  it("switches model with the other model's defaults", () => {
    expect(rerunOptions(base, 'switch', MODELS)).toMatchObject({
      model: 'Z_IMAGE_TURBO',
      steps: undefined,
      guidance: undefined,
      prompt: base.prompt,
    });
    expect(rerunOptions(completedJob(), 'switch', MODELS)).toMatchObject({ model: 'Z_IMAGE_BASE' });
  });
});

describe('editedOptions', () => {
  const base = completedJob({
    model: 'Z_IMAGE_BASE',
    numInferenceSteps: 40,
    guidanceScale: 6,
    outputFormat: 'WEBP',
  });

  it('takes the edits and keeps the rest of the request on the same model', () => {
    expect(
      editedOptions(base, { prompt: 'a blue fox', model: 'Z_IMAGE_BASE', size: 'PORTRAIT_3_4' }),
    ).toEqual({
      ...rerunOptions(base, 'reroll', MODELS),
      prompt: 'a blue fox',
      size: 'PORTRAIT_3_4',
    });
  });

  it('starts a new model from its own steps, guidance and acceleration unless the form sets them', () => {
    expect(
      editedOptions(base, { prompt: 'p', model: 'Z_IMAGE_TURBO', size: 'SQUARE_1_1', images: 2 }),
    ).toMatchObject({
      model: 'Z_IMAGE_TURBO',
      steps: undefined,
      guidance: undefined,
      acceleration: undefined,
      images: 2,
      format: 'WEBP',
    });
    expect(
      editedOptions(base, { prompt: 'p', model: 'Z_IMAGE_TURBO', size: 'SQUARE_1_1', steps: 6 })
        .steps,
    ).toBe(6);
  });
});

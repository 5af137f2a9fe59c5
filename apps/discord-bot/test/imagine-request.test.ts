import { describe, expect, it } from 'vitest';
import { buildGenerateInput, checkChannelPolicy, withDefaults } from '../src/imagine-request.ts';
import { BASE, MODELS, TURBO } from './helpers/fixtures.ts';

const key = 'discord-interaction:1';

describe('buildGenerateInput', () => {
  it('leaves out what the user left out, so the gateway’s defaults apply', () => {
    expect(buildGenerateInput({ prompt: '  a fox  ' }, MODELS, key)).toEqual({
      ok: true,
      value: {
        model: MODELS[0]?.id,
        prompt: 'a fox',
        imageSize: 'SQUARE_1_1',
        idempotencyKey: key,
      },
    });
  });

  it('passes every option through', () => {
    const built = buildGenerateInput(
      {
        prompt: 'a fox',
        model: 'Z_IMAGE_BASE',
        size: 'PORTRAIT_9_16',
        steps: BASE.maxSteps,
        images: BASE.maxImages,
        format: 'WEBP',
        guidance: BASE.maxGuidanceScale ?? 0,
        safety: false,
      },
      MODELS,
      key,
    );
    expect(built).toEqual({
      ok: true,
      value: {
        model: 'Z_IMAGE_BASE',
        prompt: 'a fox',
        imageSize: 'PORTRAIT_9_16',
        numInferenceSteps: BASE.maxSteps,
        numImages: BASE.maxImages,
        outputFormat: 'WEBP',
        guidanceScale: BASE.maxGuidanceScale,
        enableSafetyChecker: false,
        idempotencyKey: key,
      },
    });
  });

  it.each([
    [
      { prompt: 'x', steps: TURBO.maxSteps + 1 },
      'steps',
      `Z-Image Turbo takes ${TURBO.minSteps}–${TURBO.maxSteps} steps (default ${TURBO.defaultSteps}).`,
    ],
    [
      { prompt: 'x', model: 'Z_IMAGE_BASE', steps: BASE.minSteps - 1 },
      'steps',
      `Z-Image Base takes ${BASE.minSteps}–${BASE.maxSteps} steps (default ${BASE.defaultSteps}).`,
    ],
    [
      { prompt: 'x', guidance: 4 },
      'guidance',
      'Z-Image Turbo has no guidance setting; leave it out or pick another model.',
    ],
    [
      { prompt: 'x', model: 'Z_IMAGE_BASE', guidance: (BASE.maxGuidanceScale ?? 0) + 1 },
      'guidance',
      `Z-Image Base takes a guidance of ${BASE.minGuidanceScale}–${BASE.maxGuidanceScale}.`,
    ],
    [
      { prompt: 'x', images: TURBO.maxImages + 1 },
      'images',
      `Ask for 1 to ${TURBO.maxImages} images.`,
    ],
    [{ prompt: '   ' }, 'prompt', 'Describe the image you want.'],
    [
      { prompt: 'x'.repeat(TURBO.maxPromptLength + 1) },
      'prompt',
      `Keep it under ${TURBO.maxPromptLength} characters.`,
    ],
  ] as const)('refuses %o before anything is submitted', (options, option, message) => {
    expect(buildGenerateInput(options, MODELS, key)).toEqual({
      ok: false,
      problem: { kind: 'invalid-option', option, message },
    });
  });

  it('refuses a model the gateway does not list', () => {
    expect(buildGenerateInput({ prompt: 'x', model: 'Z_IMAGE_BASE' }, [TURBO], key)).toMatchObject({
      ok: false,
      problem: { option: 'model' },
    });
  });
});

describe('checkChannelPolicy', () => {
  it('lets the safety checker be turned off only in age-restricted channels', () => {
    expect(checkChannelPolicy({ prompt: 'x', safety: false }, { ageRestricted: false })).toEqual({
      kind: 'safety-off-outside-age-restricted',
    });
    expect(checkChannelPolicy({ prompt: 'x', safety: false }, { ageRestricted: true })).toBeNull();
    expect(checkChannelPolicy({ prompt: 'x' }, { ageRestricted: false })).toBeNull();
  });
});

describe('acceleration', () => {
  it('passes a model’s own acceleration through', () => {
    const [fastest] = BASE.accelerations.filter((a) => a !== BASE.defaultAcceleration);
    const built = buildGenerateInput(
      { prompt: 'a fox', model: 'Z_IMAGE_BASE', acceleration: fastest },
      MODELS,
      key,
    );
    expect(built).toMatchObject({ ok: true, value: { acceleration: fastest } });
  });

  it('refuses an acceleration the model does not take, naming the ones it does', () => {
    const foreign = BASE.accelerations.find((a) => !TURBO.accelerations.includes(a));
    expect(
      buildGenerateInput(
        { prompt: 'a fox', model: 'Z_IMAGE_TURBO', acceleration: foreign },
        MODELS,
        key,
      ),
    ).toEqual({
      ok: false,
      problem: {
        kind: 'invalid-option',
        option: 'acceleration',
        message: `Z-Image Turbo takes ${TURBO.accelerations.map((a) => a.toLowerCase().replaceAll('_', ' ')).join(', ')}.`,
      },
    });
  });
});

describe('withDefaults', () => {
  const defaults = { model: 'Z_IMAGE_BASE', size: 'LANDSCAPE_16_9', format: 'WEBP' } as const;

  it('fills in the user’s defaults where an option is absent, and only there', () => {
    expect(withDefaults({ prompt: 'x' }, defaults, MODELS)).toMatchObject(defaults);
    expect(
      withDefaults({ prompt: 'x', model: 'Z_IMAGE_TURBO', format: 'PNG' }, defaults, MODELS),
    ).toMatchObject({ model: 'Z_IMAGE_TURBO', size: 'LANDSCAPE_16_9', format: 'PNG' });
  });

  it('skips a default model the gateway no longer offers', () => {
    expect(withDefaults({ prompt: 'x' }, defaults, [TURBO]).model).toBeUndefined();
  });
});

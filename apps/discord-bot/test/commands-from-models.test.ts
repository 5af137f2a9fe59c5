/** The command definitions follow the gateway's models answer, whatever it says. */
import { type ModelInfo, ModelsQuery } from '@zimage/client';
import { modelsAnswer } from '@zimage/gateway';
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { commandDefinitions } from '../src/commands.ts';
import { BASE, MODELS, TURBO } from './helpers/fixtures.ts';

type Option = {
  name: string;
  description: string;
  min_value?: number;
  max_value?: number;
  max_length?: number;
  choices?: { name: string; value: string }[];
};

function imagineOptions(models: readonly ModelInfo[]): Record<string, Option> {
  const [imagine] = commandDefinitions(models);
  return Object.fromEntries(((imagine?.options ?? []) as Option[]).map((o) => [o.name, o]));
}

describe('/imagine, from the models answer', () => {
  const options = imagineOptions(MODELS);

  it('offers the gateway’s models by their names', () => {
    expect(options.model?.choices).toEqual(MODELS.map((m) => ({ name: m.name, value: m.id })));
  });

  it('takes prompts up to the gateway’s MAX_PROMPT_LENGTH', async () => {
    expect(options.prompt?.max_length).toBe(TURBO.maxPromptLength);
    const { models } = (await modelsAnswer(print(ModelsQuery), { maxPromptLength: 1234 })) as {
      models: ModelInfo[];
    };
    expect(imagineOptions(models).prompt?.max_length).toBe(1234);
  });

  it('spans every model’s steps, images and guidance, and says whose is which', () => {
    expect(options.steps).toMatchObject({
      min_value: Math.min(TURBO.minSteps, BASE.minSteps),
      max_value: Math.max(TURBO.maxSteps, BASE.maxSteps),
      description: `Inference steps (Z-Image Turbo ${TURBO.minSteps}–${TURBO.maxSteps}, default ${TURBO.defaultSteps}; Z-Image Base ${BASE.minSteps}–${BASE.maxSteps}, default ${BASE.defaultSteps})`,
    });
    expect(options.images).toMatchObject({ min_value: 1, max_value: BASE.maxImages });
    expect(options.guidance).toMatchObject({
      min_value: BASE.minGuidanceScale,
      max_value: BASE.maxGuidanceScale,
      description: `Z-Image Base only: how closely to follow the prompt (${BASE.minGuidanceScale}–${BASE.maxGuidanceScale}, default ${BASE.defaultGuidanceScale})`,
    });
  });

  it('leaves guidance out for a gateway whose models have none', () => {
    expect(imagineOptions([TURBO]).guidance).toBeUndefined();
  });

  it('offers the accelerations of the models that have a choice of them', () => {
    expect(TURBO.accelerations).toHaveLength(1);
    expect(options.acceleration?.choices?.map((c) => c.value)).toEqual(BASE.accelerations);
    expect(options.acceleration?.description).toMatch(/^Z-Image Base only: /);
    expect(imagineOptions([TURBO]).acceleration).toBeUndefined();
  });

  it('keeps every description within Discord’s 100 characters', () => {
    for (const option of Object.values(options)) {
      expect(option.description.length).toBeLessThanOrEqual(100);
    }
  });
});

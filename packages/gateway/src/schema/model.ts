/**
 * The models and their parameter enums. GraphQL names are the contract's (SCREAMING_CASE);
 * values are core's lowercase ones, so resolvers and the engine never translate.
 */
import {
  ACCELERATIONS,
  type Acceleration,
  expectedDurationMs,
  IMAGE_SIZES,
  type ImageSize,
  MODEL_LIST,
  type ModelKey,
  type ModelSpec,
  microUsdToUsd,
  OUTPUT_FORMATS,
  type OutputFormat,
  PIXEL_SIZES,
} from '@zimage/core';
import { modelEnumName } from '../domain/models.ts';
import { builder } from './builder.ts';

type EnumValues<T extends string> = Record<string, { value: T; description?: string }>;

/** `square_1_1` → `SQUARE_1_1`. */
function upperCaseValues<T extends string>(
  values: readonly T[],
  describe?: (value: T) => string,
): EnumValues<T> {
  return Object.fromEntries(
    values.map((value) => [value.toUpperCase(), { value, description: describe?.(value) }]),
  );
}

export const ModelEnum = builder.enumType('Model', {
  description: "Pixazo's Z-Image models.",
  values: Object.fromEntries(
    MODEL_LIST.map((spec) => [
      modelEnumName(spec.key),
      { value: spec.key, description: spec.name },
    ]),
  ) as EnumValues<ModelKey>,
});

export const ImageSizeEnum = builder.enumType('ImageSize', {
  values: upperCaseValues<ImageSize>(IMAGE_SIZES, (size) => {
    const { width, height } = PIXEL_SIZES[size];
    return `${width}×${height}`;
  }),
});

export const OutputFormatEnum = builder.enumType('OutputFormat', {
  values: upperCaseValues<OutputFormat>(OUTPUT_FORMATS),
});

export const AccelerationEnum = builder.enumType('Acceleration', {
  values: upperCaseValues<Acceleration>(ACCELERATIONS),
});

const ModelInfo = builder.objectRef<ModelSpec>('ModelInfo').implement({
  description: 'A model, its price and the ranges of its parameters.',
  fields: (t) => ({
    id: t.field({ type: ModelEnum, resolve: (spec) => spec.key }),
    name: t.exposeString('name'),
    priceUsdPerImage: t.float({ resolve: (spec) => microUsdToUsd(spec.priceMicroUsdPerImage) }),
    defaultSteps: t.int({ resolve: (spec) => spec.steps.default }),
    minSteps: t.int({ resolve: (spec) => spec.steps.min }),
    maxSteps: t.int({ resolve: (spec) => spec.steps.max }),
    supportsGuidanceScale: t.boolean({ resolve: (spec) => spec.guidanceScale !== null }),
    defaultGuidanceScale: t.float({
      nullable: true,
      description: 'null when the model has no guidance scale.',
      resolve: (spec) => spec.guidanceScale?.default ?? null,
    }),
    minGuidanceScale: t.float({
      nullable: true,
      resolve: (spec) => spec.guidanceScale?.min ?? null,
    }),
    maxGuidanceScale: t.float({
      nullable: true,
      resolve: (spec) => spec.guidanceScale?.max ?? null,
    }),
    maxImages: t.int({
      description: 'Most images one job may ask for.',
      resolve: (spec) => spec.numImages.max,
    }),
    maxPromptLength: t.int({
      description:
        'Longest prompt this gateway accepts, in characters (its MAX_PROMPT_LENGTH; the same for every model).',
      resolve: (_spec, _args, context) => context.engine.maxPromptLength,
    }),
    expectedDurationMs: t.int({
      description:
        "How long Pixazo usually takes for a job with these settings, from submission to its result, in milliseconds: the estimate the gateway itself polls by. Omitted arguments take the model's defaults.",
      args: {
        numInferenceSteps: t.arg.int({ required: false }),
        numImages: t.arg.int({ required: false }),
        acceleration: t.arg({ type: AccelerationEnum, required: false }),
      },
      resolve: (spec, args) =>
        expectedDurationMs(spec, {
          numInferenceSteps: args.numInferenceSteps ?? spec.steps.default,
          numImages: args.numImages ?? spec.numImages.default,
          acceleration: args.acceleration ?? spec.defaultAcceleration,
        }),
    }),
    accelerations: t.field({
      type: [AccelerationEnum],
      resolve: (spec) => [...spec.accelerations],
    }),
    defaultAcceleration: t.field({
      type: AccelerationEnum,
      resolve: (spec) => spec.defaultAcceleration,
    }),
  }),
});

builder.queryField('models', (t) =>
  t.field({
    type: [ModelInfo],
    description: 'Every model the gateway offers; the same for every caller.',
    resolve: () => [...MODEL_LIST],
  }),
);

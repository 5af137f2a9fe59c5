/**
 * The generate form's values, their per-model limits (all read from the gateway's `models`
 * query) and validation.
 */
import type {
  Acceleration,
  GenerateImageInput,
  ImageSize,
  Job,
  Model,
  ModelInfo,
  OutputFormat,
} from '../../graphql/operations.ts';

export const IMAGE_SIZES: readonly ImageSize[] = [
  'SQUARE_1_1',
  'PORTRAIT_3_4',
  'LANDSCAPE_4_3',
  'PORTRAIT_9_16',
  'LANDSCAPE_16_9',
];
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['PNG', 'JPEG', 'WEBP'];
/** Used when a job is reused with a model that has guidance but the job had none. */
const FALLBACK_GUIDANCE = 4;

export interface GenerateValues {
  model: Model;
  prompt: string;
  imageSize: ImageSize;
  /** NaN while the field is empty. */
  numInferenceSteps: number;
  /** Kept while a model without guidance is selected, and only sent to models with one. */
  guidanceScale: number;
  numImages: number;
  outputFormat: OutputFormat;
  enableSafetyChecker: boolean;
  acceleration: Acceleration;
}

export type FieldName = keyof GenerateValues;
export type FieldErrors = Partial<Record<FieldName, string>>;

export function defaultValues(model: ModelInfo): GenerateValues {
  return {
    model: model.id,
    prompt: '',
    imageSize: 'SQUARE_1_1',
    numInferenceSteps: model.defaultSteps,
    guidanceScale: model.defaultGuidanceScale ?? FALLBACK_GUIDANCE,
    numImages: 1,
    outputFormat: 'PNG',
    enableSafetyChecker: true,
    acceleration: model.defaultAcceleration,
  };
}

/** Steps, guidance and acceleration mean different things per model: they start from its defaults. */
export function withModel(values: GenerateValues, model: ModelInfo): GenerateValues {
  return {
    ...values,
    model: model.id,
    numInferenceSteps: model.defaultSteps,
    guidanceScale: model.defaultGuidanceScale ?? values.guidanceScale,
    numImages: Math.min(values.numImages, model.maxImages),
    acceleration: model.defaultAcceleration,
  };
}

export function valuesFromJob(job: Job): GenerateValues {
  return {
    model: job.model,
    prompt: job.prompt,
    imageSize: job.imageSize,
    numInferenceSteps: job.numInferenceSteps,
    guidanceScale: job.guidanceScale ?? FALLBACK_GUIDANCE,
    numImages: job.numImages,
    outputFormat: job.outputFormat,
    enableSafetyChecker: job.enableSafetyChecker,
    acceleration: job.acceleration,
  };
}

const inRange = (value: number, min: number, max: number) =>
  Number.isFinite(value) && value >= min && value <= max;

/** The model's guidance limits, or null when it has no guidance. */
export function guidanceRange(model: ModelInfo) {
  const { supportsGuidanceScale, minGuidanceScale, maxGuidanceScale, defaultGuidanceScale } = model;
  if (!supportsGuidanceScale || minGuidanceScale == null || maxGuidanceScale == null) return null;
  return {
    min: minGuidanceScale,
    max: maxGuidanceScale,
    default: defaultGuidanceScale ?? minGuidanceScale,
  };
}

/** 1 … the model's maximum images per job. */
export const imageCounts = (model: ModelInfo) =>
  Array.from({ length: model.maxImages }, (_, index) => index + 1);

export function validate(values: GenerateValues, model: ModelInfo): FieldErrors {
  const errors: FieldErrors = {};
  if (!values.prompt.trim()) errors.prompt = 'Describe the image you want.';
  const steps = values.numInferenceSteps;
  if (!Number.isInteger(steps) || !inRange(steps, model.minSteps, model.maxSteps)) {
    errors.numInferenceSteps = `Use a whole number from ${model.minSteps} to ${model.maxSteps}.`;
  }
  const guidance = guidanceRange(model);
  if (guidance && !inRange(values.guidanceScale, guidance.min, guidance.max)) {
    errors.guidanceScale = `Use a number from ${guidance.min} to ${guidance.max}.`;
  }
  if (!Number.isInteger(values.numImages) || !inRange(values.numImages, 1, model.maxImages)) {
    errors.numImages = `${model.name} makes 1 to ${model.maxImages} images per job.`;
  }
  if (!model.accelerations.includes(values.acceleration)) {
    errors.acceleration = `${model.name} offers ${model.accelerations.join(', ')}.`;
  }
  return errors;
}

export function toInput(
  values: GenerateValues,
  model: Pick<ModelInfo, 'supportsGuidanceScale'>,
): GenerateImageInput {
  return {
    model: values.model,
    prompt: values.prompt.trim(),
    imageSize: values.imageSize,
    numInferenceSteps: values.numInferenceSteps,
    // Models without guidance reject the argument, so it is only sent where it applies.
    ...(model.supportsGuidanceScale ? { guidanceScale: values.guidanceScale } : {}),
    numImages: values.numImages,
    outputFormat: values.outputFormat,
    enableSafetyChecker: values.enableSafetyChecker,
    acceleration: values.acceleration,
  };
}

/** The same job again, e.g. to retry one that failed. */
export const inputFromJob = (job: Job): GenerateImageInput =>
  toInput(valuesFromJob(job), { supportsGuidanceScale: job.guidanceScale != null });

export const costOf = (values: GenerateValues, model: ModelInfo) =>
  model.priceUsdPerImage * values.numImages;

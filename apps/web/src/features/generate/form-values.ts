/**
 * The generate form's values, their per-model limits (all read from the gateway's `models`
 * query), the choices and defaults the schema itself gives, and validation.
 */
import type {
  Acceleration,
  GenerateImageInput,
  ImageSize,
  Job,
  Model,
  ModelInfo,
  ModelsAnswer,
  OutputFormat,
} from '../../graphql/operations.ts';
import { aspectRatio } from '../../ui/labels.ts';

/** The contract has no default size; the form starts square. */
const DEFAULT_IMAGE_SIZE: ImageSize = 'SQUARE_1_1';

export interface GenerateValues {
  model: Model;
  prompt: string;
  imageSize: ImageSize;
  /** NaN while the field is empty. */
  numInferenceSteps: number;
  /**
   * Kept while a model without guidance is selected, and only sent to models with one; NaN
   * when there is none yet (choosing a model with guidance sets its default).
   */
  guidanceScale: number;
  numImages: number;
  outputFormat: OutputFormat;
  enableSafetyChecker: boolean;
  acceleration: Acceleration;
}

export type FieldName = keyof GenerateValues;
export type FieldErrors = Partial<Record<FieldName, string>>;

/** What the form offers besides the models: the schema's enum values and input defaults. */
export interface FormChoices {
  /** From the tallest to the widest. */
  imageSizes: readonly ImageSize[];
  outputFormats: readonly OutputFormat[];
  /** GenerateImageInput's own defaults. */
  defaults: Pick<GenerateValues, 'model' | 'numImages' | 'outputFormat' | 'enableSafetyChecker'>;
}

/** The parts of an introspected `__Type` the Models query asks for (gql.tada leaves them unknown). */
interface IntrospectedType {
  enumValues?: readonly { name: string }[] | null;
  inputFields?: readonly { name: string; defaultValue: string | null }[] | null;
}

const enumValues = (type: unknown) =>
  ((type as IntrospectedType | null)?.enumValues ?? []).map((value) => value.name);

/** A default as GraphQL prints it: numbers, booleans and strings read as JSON; an enum value is its name. */
function literal(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const widthPerHeight = (size: string) => {
  const { width, height } = aspectRatio(size);
  return width / height;
};

export function formChoices(answer: Omit<ModelsAnswer, 'models'>): FormChoices {
  const inputFields = (answer.generateImageInput as IntrospectedType | null)?.inputFields ?? [];
  const defaults = Object.fromEntries(
    inputFields.flatMap((field) =>
      field.defaultValue == null ? [] : [[field.name, literal(field.defaultValue)]],
    ),
  );
  return {
    imageSizes: (enumValues(answer.imageSizes) as ImageSize[]).sort(
      (a, b) => widthPerHeight(a) - widthPerHeight(b),
    ),
    outputFormats: enumValues(answer.outputFormats) as OutputFormat[],
    defaults: defaults as FormChoices['defaults'],
  };
}

export function defaultValues(model: ModelInfo, choices: FormChoices): GenerateValues {
  const { defaults } = choices;
  return {
    model: model.id,
    prompt: '',
    imageSize: DEFAULT_IMAGE_SIZE,
    numInferenceSteps: model.defaultSteps,
    guidanceScale: model.defaultGuidanceScale ?? Number.NaN,
    numImages: Math.min(defaults.numImages, model.maxImages),
    outputFormat: defaults.outputFormat,
    enableSafetyChecker: defaults.enableSafetyChecker,
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
    guidanceScale: job.guidanceScale ?? Number.NaN,
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

/**
 * The prompt's length as the gateway counts it: the Unicode code points (not UTF-16 units) of
 * the text it is sent, which is trimmed.
 */
export const promptLength = (prompt: string) => [...prompt.trim()].length;

export function validate(values: GenerateValues, model: ModelInfo): FieldErrors {
  const errors: FieldErrors = {};
  const length = promptLength(values.prompt);
  if (length === 0) errors.prompt = 'Describe the image you want.';
  else if (length > model.maxPromptLength) {
    errors.prompt = `The prompt may have at most ${model.maxPromptLength} characters; this one has ${length}.`;
  }
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

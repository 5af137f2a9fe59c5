/**
 * Validation of generate parameters, derived from the model table. The same rules serve two
 * spellings: the client's camelCase input (errors name `numInferenceSteps`) and Pixazo's
 * snake_case wire body (the simulator's errors name `num_inference_steps`).
 */
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.ts';
import {
  type Acceleration,
  IMAGE_SIZES,
  type ImageSize,
  MODEL_KEYS,
  MODELS,
  type ModelKey,
  type ModelSpec,
  OUTPUT_FORMATS,
  type OutputFormat,
  PROMPT_MAX_LENGTH,
} from './models.ts';

/** What a caller passes: only `prompt` and `imageSize` are required. */
export interface GenerateInput {
  model?: ModelKey | undefined;
  prompt: string;
  imageSize: ImageSize;
  numInferenceSteps?: number | undefined;
  /** Base only. */
  guidanceScale?: number | undefined;
  numImages?: number | undefined;
  enableSafetyChecker?: boolean | undefined;
  outputFormat?: OutputFormat | undefined;
  acceleration?: Acceleration | undefined;
}

/** Validated parameters with every default filled in. */
export interface GenerateParams {
  model: ModelKey;
  prompt: string;
  imageSize: ImageSize;
  numInferenceSteps: number;
  /** null for models without guidance (Turbo). */
  guidanceScale: number | null;
  numImages: number;
  enableSafetyChecker: boolean;
  outputFormat: OutputFormat;
  acceleration: Acceleration;
}

/** Pixazo's JSON body for the generate POST. */
export interface PixazoRequestBody {
  prompt: string;
  image_size: ImageSize;
  num_inference_steps: number;
  guidance_scale?: number;
  num_images: number;
  enable_safety_checker: boolean;
  output_format: OutputFormat;
  acceleration: Acceleration;
}

type ParamField = Exclude<keyof GenerateParams, 'model'>;

const CAMEL: Record<ParamField, string> = {
  prompt: 'prompt',
  imageSize: 'imageSize',
  numInferenceSteps: 'numInferenceSteps',
  guidanceScale: 'guidanceScale',
  numImages: 'numImages',
  enableSafetyChecker: 'enableSafetyChecker',
  outputFormat: 'outputFormat',
  acceleration: 'acceleration',
};

const SNAKE: Record<ParamField, keyof PixazoRequestBody> = {
  prompt: 'prompt',
  imageSize: 'image_size',
  numInferenceSteps: 'num_inference_steps',
  guidanceScale: 'guidance_scale',
  numImages: 'num_images',
  enableSafetyChecker: 'enable_safety_checker',
  outputFormat: 'output_format',
  acceleration: 'acceleration',
};

/** Pixazo's names for the generate parameters, for reading the field out of its 400 answers. */
export const WIRE_FIELD_NAMES: readonly string[] = Object.values(SNAKE);

/**
 * Whether `text` has at most `max` characters, counted as code points, as the messages say and
 * as people count (an emoji is one; `String.length` counts UTF-16 units, two for most emoji).
 * Pixazo documents no unit for its prompt limit; the gateway, the client and the simulator all
 * count this way. Bounded work whatever the input: a code point is one or two UTF-16 units, so
 * past 2 × max units the answer is known, and below it at most 2 × max units are walked.
 */
export function withinCharacterLimit(text: string, max: number): boolean {
  if (text.length <= max) return true;
  if (text.length > 2 * max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return false;
  return true;
}

function oneOf(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

function intIn(field: string, range: { min: number; max: number }, model: ModelSpec) {
  const message = `${field} must be an integer from ${range.min} to ${range.max} for ${model.name}`;
  return z
    .number({ error: message })
    .int({ error: message })
    .min(range.min, { error: message })
    .max(range.max, { error: message });
}

function enumOf<T extends string>(field: string, values: readonly T[], model?: ModelSpec) {
  const suffix = model ? ` for ${model.name}` : '';
  return z.enum(values as [T, ...T[]], {
    error: `${field} must be one of ${oneOf(values)}${suffix}`,
  });
}

function paramsSchema(model: ModelSpec, names: Record<ParamField, string>) {
  const guidance = model.guidanceScale;
  const guidanceMessage = guidance
    ? `${names.guidanceScale} must be a number from ${guidance.min} to ${guidance.max} for ${model.name}`
    : `${names.guidanceScale} is not supported by ${model.name}`;
  const guidanceSchema = guidance
    ? z
        .number({ error: guidanceMessage })
        .min(guidance.min, { error: guidanceMessage })
        .max(guidance.max, { error: guidanceMessage })
        .default(guidance.default)
    : z.never({ error: guidanceMessage }).optional();
  const promptMessage = `${names.prompt} must be a non-empty string of at most ${PROMPT_MAX_LENGTH} characters`;
  return z.object({
    [names.prompt]: z
      .string({ error: promptMessage })
      .refine((s) => s.trim().length > 0, { error: promptMessage })
      .refine((s) => withinCharacterLimit(s, PROMPT_MAX_LENGTH), { error: promptMessage }),
    [names.imageSize]: enumOf(names.imageSize, IMAGE_SIZES),
    [names.numInferenceSteps]: intIn(names.numInferenceSteps, model.steps, model).default(
      model.steps.default,
    ),
    [names.guidanceScale]: guidanceSchema,
    [names.numImages]: intIn(names.numImages, model.numImages, model).default(
      model.numImages.default,
    ),
    [names.enableSafetyChecker]: z
      .boolean({ error: `${names.enableSafetyChecker} must be true or false` })
      .default(true),
    [names.outputFormat]: enumOf(names.outputFormat, OUTPUT_FORMATS).default('png'),
    [names.acceleration]: enumOf(names.acceleration, model.accelerations, model).default(
      model.defaultAcceleration,
    ),
  });
}

type ParamsSchema = z.ZodType<Record<string, unknown>>;

function schemasPerModel(
  names: Record<ParamField, string>,
  strict: boolean,
): Record<ModelKey, ParamsSchema> {
  const entries = MODEL_KEYS.map((key) => {
    const schema = paramsSchema(MODELS[key], names);
    return [key, (strict ? schema.strict() : schema) as ParamsSchema] as const;
  });
  return Object.fromEntries(entries) as Record<ModelKey, ParamsSchema>;
}

const camelSchemas = schemasPerModel(CAMEL, true);
// Pixazo ignores fields it does not know, so the wire schema does too.
const snakeSchemas = schemasPerModel(SNAKE, false);

function toIssues(error: z.ZodError): [ValidationIssue, ...ValidationIssue[]] {
  const issues = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const field = issue.keys[0] ?? 'input';
      return { field, message: `${field} is not a known parameter` };
    }
    return { field: String(issue.path[0] ?? 'input'), message: issue.message };
  });
  return issues as [ValidationIssue, ...ValidationIssue[]];
}

function parseWith(
  schema: ParamsSchema,
  names: Record<ParamField, string>,
  model: ModelKey,
  data: unknown,
): GenerateParams {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ValidationError([{ field: 'input', message: 'input must be an object' }]);
  }
  const result = schema.safeParse(data);
  if (!result.success) throw new ValidationError(toIssues(result.error));
  const v = result.data;
  return {
    model,
    prompt: v[names.prompt] as string,
    imageSize: v[names.imageSize] as ImageSize,
    numInferenceSteps: v[names.numInferenceSteps] as number,
    guidanceScale: (v[names.guidanceScale] as number | undefined) ?? null,
    numImages: v[names.numImages] as number,
    enableSafetyChecker: v[names.enableSafetyChecker] as boolean,
    outputFormat: v[names.outputFormat] as OutputFormat,
    acceleration: v[names.acceleration] as Acceleration,
  };
}

/** Validates a caller's input and fills Pixazo's defaults. Throws ValidationError naming the field. */
export function validateGenerateInput(input: GenerateInput): GenerateParams {
  const { model = 'turbo', ...rest } = (input ?? {}) as GenerateInput;
  if (!(MODEL_KEYS as readonly string[]).includes(model)) {
    throw new ValidationError([
      { field: 'model', message: `model must be one of ${oneOf(MODEL_KEYS)}` },
    ]);
  }
  return parseWith(camelSchemas[model], CAMEL, model, rest);
}

/** Validates a Pixazo wire body for a model (the simulator's check). Errors name snake_case fields. */
export function parseRequestBody(model: ModelKey, body: unknown): GenerateParams {
  return parseWith(snakeSchemas[model], SNAKE, model, body);
}

/** The JSON body Pixazo expects for validated parameters. */
export function toRequestBody(params: GenerateParams): PixazoRequestBody {
  const body: PixazoRequestBody = {
    prompt: params.prompt,
    image_size: params.imageSize,
    num_inference_steps: params.numInferenceSteps,
    num_images: params.numImages,
    enable_safety_checker: params.enableSafetyChecker,
    output_format: params.outputFormat,
    acceleration: params.acceleration,
  };
  if (params.guidanceScale !== null) body.guidance_scale = params.guidanceScale;
  return body;
}

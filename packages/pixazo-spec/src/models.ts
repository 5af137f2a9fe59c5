/**
 * The one table of Pixazo's Z-Image models, as data. Validation, cost estimates, polling
 * schedules and the simulator all read it, so a change to Pixazo's documented ranges or prices
 * is a change here and nowhere else. Sources: the Pixazo API docs (seed) and, for pixel sizes,
 * the assumption PRODUCT.md records (Pixazo does not publish them).
 */

export const IMAGE_SIZES = [
  'square_1_1',
  'portrait_3_4',
  'landscape_4_3',
  'portrait_9_16',
  'landscape_16_9',
] as const;
export type ImageSize = (typeof IMAGE_SIZES)[number];

export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const ACCELERATIONS = ['none', 'regular', 'fast', 'ultra_fast'] as const;
export type Acceleration = (typeof ACCELERATIONS)[number];

export const PIXEL_SIZES: Readonly<Record<ImageSize, { width: number; height: number }>> = {
  square_1_1: { width: 1024, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  portrait_3_4: { width: 768, height: 1024 },
  landscape_16_9: { width: 1024, height: 576 },
  portrait_9_16: { width: 576, height: 1024 },
};

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

export interface IntRange {
  min: number;
  max: number;
  default: number;
}

export interface ModelSpec {
  /** Our short key, used by the CLI and in code. */
  key: ModelKey;
  /** Pixazo's model id: the prefix of its request ids and the `model_id` of its status bodies. */
  pixazoId: string;
  name: string;
  /** Path of the generate POST, relative to the Pixazo base URL. */
  requestPath: string;
  /** Price per image in micro-USD, so that sums stay exact (0.008 USD = 8000). */
  priceMicroUsdPerImage: number;
  steps: IntRange;
  /** null: the model rejects guidance_scale. */
  guidanceScale: { min: number; max: number; default: number } | null;
  numImages: IntRange;
  accelerations: readonly Acceleration[];
  defaultAcceleration: Acceleration;
  /**
   * How long a job takes, for the simulator's durations and the client's first poll:
   * queueMs + perStepMs × steps × accelerationFactor × (1 + (images − 1) × extraImageFactor).
   */
  timing: {
    queueMs: number;
    perStepMs: number;
    extraImageFactor: number;
    accelerationFactor: Partial<Record<Acceleration, number>>;
  };
}

export const MODEL_KEYS = ['turbo', 'base'] as const;
export type ModelKey = (typeof MODEL_KEYS)[number];

export const PROMPT_MAX_LENGTH = 4000;

export const MODELS: Readonly<Record<ModelKey, ModelSpec>> = {
  turbo: {
    key: 'turbo',
    pixazoId: 'z-image-turbo-834',
    name: 'Z-Image Turbo',
    requestPath: '/z-image-turbo-834/v1/z-image-turbo-request',
    priceMicroUsdPerImage: 8000,
    steps: { min: 1, max: 50, default: 8 },
    guidanceScale: null,
    numImages: { min: 1, max: 4, default: 1 },
    accelerations: ['none'],
    defaultAcceleration: 'none',
    timing: { queueMs: 800, perStepMs: 250, extraImageFactor: 0.6, accelerationFactor: {} },
  },
  base: {
    key: 'base',
    pixazoId: 'z-image-base',
    name: 'Z-Image Base',
    requestPath: '/z-image-base/v1/z-image-base-request',
    priceMicroUsdPerImage: 10000,
    steps: { min: 10, max: 100, default: 28 },
    guidanceScale: { min: 1, max: 20, default: 4 },
    numImages: { min: 1, max: 4, default: 1 },
    accelerations: ['regular', 'fast', 'ultra_fast'],
    defaultAcceleration: 'regular',
    timing: {
      queueMs: 2000,
      perStepMs: 700,
      extraImageFactor: 0.6,
      accelerationFactor: { regular: 1, fast: 0.7, ultra_fast: 0.45 },
    },
  },
};

export const MODEL_LIST: readonly ModelSpec[] = MODEL_KEYS.map((key) => MODELS[key]);

export function modelByPixazoId(pixazoId: string): ModelSpec | undefined {
  return MODEL_LIST.find((m) => m.pixazoId === pixazoId);
}

/** The model a Pixazo request id belongs to (request ids start with the model id and `_`). */
export function modelOfRequestId(requestId: string): ModelSpec | undefined {
  return MODEL_LIST.find((m) => requestId.startsWith(`${m.pixazoId}_`));
}

/** Expected duration of a job from submission to a terminal state, in milliseconds. */
export function expectedDurationMs(
  spec: ModelSpec,
  params: { numInferenceSteps: number; numImages: number; acceleration: Acceleration },
): number {
  const { queueMs, perStepMs, extraImageFactor, accelerationFactor } = spec.timing;
  const accel = accelerationFactor[params.acceleration] ?? 1;
  const images = 1 + (params.numImages - 1) * extraImageFactor;
  return Math.round(queueMs + perStepMs * params.numInferenceSteps * accel * images);
}

/** What Pixazo charges for a job, in micro-USD. A job that ends in ERROR costs nothing. */
export function costMicroUsd(spec: ModelSpec, numImages: number): number {
  return spec.priceMicroUsdPerImage * numImages;
}

export function microUsdToUsd(microUsd: number): number {
  return microUsd / 1_000_000;
}

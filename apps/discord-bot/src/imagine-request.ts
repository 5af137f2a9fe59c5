/**
 * Input checks: what the user asked for (command options, or a button under an earlier result)
 * becomes a gateway request, checked first against the gateway's own models so that a
 * request the gateway would refuse costs no round trip and gets the bot's wording. Values the
 * user leaves out are left out of the request too: the gateway's defaults apply.
 */
import type {
  Acceleration,
  GenerateInput,
  ImageSize,
  Model,
  ModelInfo,
  OutputFormat,
} from '@zimage/client';
import { accelerationLabel } from './presenter.ts';
import type { Checked, Problem } from './problems.ts';

/** What the user asked for. */
export interface ImagineOptions {
  prompt: string;
  model?: Model | undefined;
  size?: ImageSize | undefined;
  steps?: number | undefined;
  images?: number | undefined;
  format?: OutputFormat | undefined;
  guidance?: number | undefined;
  /** false turns Pixazo's safety checker off. */
  safety?: boolean | undefined;
  acceleration?: Acceleration | undefined;
}

/** A user's own defaults (`/settings`), for the options they leave out of /imagine. */
export interface UserDefaults {
  model?: Model | undefined;
  size?: ImageSize | undefined;
  format?: OutputFormat | undefined;
}

/**
 * `options` with the user's defaults filled in where an option is absent. A default model the
 * gateway no longer offers is skipped (the gateway's default applies), not refused: the user
 * did not ask for it this time.
 */
export function withDefaults(
  options: ImagineOptions,
  defaults: UserDefaults,
  models: readonly ModelInfo[],
): ImagineOptions {
  const offered = models.some((m) => m.id === defaults.model);
  return {
    ...options,
    model: options.model ?? (offered ? defaults.model : undefined),
    size: options.size ?? defaults.size,
    format: options.format ?? defaults.format,
  };
}

/** `imageSize` is required by the gateway; the bot's users get square unless they choose. */
const DEFAULT_SIZE: ImageSize = 'SQUARE_1_1';

/**
 * The model for `options`: the one asked for, else the first the gateway lists (its default).
 */
export function modelFor(
  options: Pick<ImagineOptions, 'model'>,
  models: readonly ModelInfo[],
): ModelInfo | undefined {
  return options.model === undefined ? models[0] : models.find((m) => m.id === options.model);
}

/**
 * Channel policy, decided before the first response: turning the safety checker off is for
 * age-restricted channels only, so that nobody gets unfiltered images in front of everyone.
 */
export function checkChannelPolicy(
  options: ImagineOptions,
  channel: { ageRestricted: boolean },
): Problem | null {
  return options.safety === false && !channel.ageRestricted
    ? { kind: 'safety-off-outside-age-restricted' }
    : null;
}

/** The gateway request for `options`, or the first option the models refuse. */
export function buildGenerateInput(
  options: ImagineOptions,
  models: readonly ModelInfo[],
  idempotencyKey: string,
): Checked<GenerateInput> {
  const invalid = (option: string, message: string): Checked<GenerateInput> => ({
    ok: false,
    problem: { kind: 'invalid-option', option, message },
  });
  const model = modelFor(options, models);
  if (!model) return invalid('model', `${options.model} is not offered by this gateway.`);
  const prompt = options.prompt.trim();
  if (!prompt) return invalid('prompt', 'Describe the image you want.');
  if (prompt.length > model.maxPromptLength) {
    return invalid('prompt', `Keep it under ${model.maxPromptLength} characters.`);
  }
  const { steps, guidance, images } = options;
  if (steps !== undefined && (steps < model.minSteps || steps > model.maxSteps)) {
    return invalid(
      'steps',
      `${model.name} takes ${model.minSteps}–${model.maxSteps} steps (default ${model.defaultSteps}).`,
    );
  }
  if (guidance !== undefined) {
    const { minGuidanceScale: min, maxGuidanceScale: max } = model;
    if (!model.supportsGuidanceScale || min == null || max == null) {
      return invalid(
        'guidance',
        `${model.name} has no guidance setting; leave it out or pick another model.`,
      );
    }
    if (guidance < min || guidance > max) {
      return invalid('guidance', `${model.name} takes a guidance of ${min}–${max}.`);
    }
  }
  if (images !== undefined && (images < 1 || images > model.maxImages)) {
    return invalid('images', `Ask for 1 to ${model.maxImages} images.`);
  }
  const { acceleration } = options;
  if (acceleration !== undefined && !model.accelerations.includes(acceleration)) {
    return invalid(
      'acceleration',
      `${model.name} takes ${model.accelerations.map(accelerationLabel).join(', ')}.`,
    );
  }
  return {
    ok: true,
    value: {
      model: model.id,
      prompt,
      imageSize: options.size ?? DEFAULT_SIZE,
      ...(steps === undefined ? {} : { numInferenceSteps: steps }),
      ...(guidance === undefined ? {} : { guidanceScale: guidance }),
      ...(images === undefined ? {} : { numImages: images }),
      ...(options.safety === undefined ? {} : { enableSafetyChecker: options.safety }),
      ...(options.format === undefined ? {} : { outputFormat: options.format }),
      ...(acceleration === undefined ? {} : { acceleration }),
      idempotencyKey,
    },
  };
}

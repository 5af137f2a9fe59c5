/** The buttons under a result that start a new job from it. */
import type { ImageSize, Job, Model, ModelInfo } from '@zimage/client';
import type { ImagineOptions } from './imagine-request.ts';

export type RerunVariant = 'reroll' | 'vary' | 'switch';

/** The model a Switch button moves a job to, if the gateway offers another. */
export function otherModel(job: Pick<Job, 'model'>, models: readonly ModelInfo[]) {
  return models.find((m) => m.id !== job.model);
}

/** The same request as `job`, option for option. */
function sameRequest(job: Job): ImagineOptions {
  return {
    prompt: job.prompt,
    model: job.model,
    size: job.imageSize,
    steps: job.numInferenceSteps,
    images: job.numImages,
    format: job.outputFormat,
    guidance: job.guidanceScale ?? undefined,
    safety: job.enableSafetyChecker,
    acceleration: job.acceleration,
  };
}

/** The same request on `model`: its step scale, guidance and accelerations are its own. */
function onModel(options: ImagineOptions, model: Model): ImagineOptions {
  return { ...options, model, steps: undefined, guidance: undefined, acceleration: undefined };
}

/**
 * The options for a new job made from an earlier one: the same request again (re-roll, and
 * Retry after a failure), as many images as its model allows (vary), or the same prompt on
 * the other model with that model's defaults (the models' step scales differ, so carrying
 * the steps over would mislead).
 */
export function rerunOptions(
  job: Job,
  variant: RerunVariant,
  models: readonly ModelInfo[],
): ImagineOptions {
  const same = sameRequest(job);
  switch (variant) {
    case 'reroll':
      return same;
    case 'vary': {
      const model = models.find((m) => m.id === job.model);
      return model ? { ...same, images: model.maxImages } : same;
    }
    case 'switch': {
      const other = otherModel(job, models);
      return other ? onModel(same, other.id) : same;
    }
  }
}

/** What the Edit & re-roll form lets the user change; an absent number keeps the earlier one. */
export interface RequestEdits {
  prompt: string;
  model: Model;
  size: ImageSize;
  steps?: number | undefined;
  images?: number | undefined;
}

/**
 * The earlier request with the form's edits. The rest (format, safety, and on the same model
 * guidance and acceleration) is kept; a new model starts from its own defaults for what the
 * form does not set.
 */
export function editedOptions(job: Job, edits: RequestEdits): ImagineOptions {
  const same = sameRequest(job);
  const base = edits.model === job.model ? same : onModel(same, edits.model);
  return {
    ...base,
    prompt: edits.prompt,
    size: edits.size,
    steps: edits.steps ?? base.steps,
    images: edits.images ?? base.images,
  };
}

/** The buttons under a result that start a new job from it. */
import type { Job, ModelInfo } from '@zimage/client';
import type { ImagineOptions } from './imagine-request.ts';

export type RerunVariant = 'reroll' | 'vary' | 'switch';

/** The model a Switch button moves a job to, if the gateway offers another. */
export function otherModel(job: Pick<Job, 'model'>, models: readonly ModelInfo[]) {
  return models.find((m) => m.id !== job.model);
}

/**
 * The options for a new job made from an earlier one: the same request again (re-roll), as
 * many images as its model allows (vary), or the same prompt on the other model with that
 * model's defaults (the models' step scales differ, so carrying the steps over would mislead).
 */
export function rerunOptions(
  job: Job,
  variant: RerunVariant,
  models: readonly ModelInfo[],
): ImagineOptions {
  const same: ImagineOptions = {
    prompt: job.prompt,
    model: job.model,
    size: job.imageSize,
    steps: job.numInferenceSteps,
    images: job.numImages,
    format: job.outputFormat,
    guidance: job.guidanceScale ?? undefined,
    safety: job.enableSafetyChecker,
  };
  switch (variant) {
    case 'reroll':
      return same;
    case 'vary': {
      const model = models.find((m) => m.id === job.model);
      return model ? { ...same, images: model.maxImages } : same;
    }
    case 'switch': {
      const other = otherModel(job, models);
      return other ? { ...same, model: other.id, steps: undefined, guidance: undefined } : same;
    }
  }
}

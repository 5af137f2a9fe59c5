/**
 * What of a job its image files carry (embed-metadata.ts writes it): the prompt, the job's
 * generate parameters spelled as GenerateImageInput takes them (the contract's enum names), so
 * they can be sent again as they are, its id, and zimage as the software.
 */
import type { GenerateParams } from '@zimage/core';
import type { JobRecord } from '../domain/job.ts';
import { modelEnumName } from '../domain/models.ts';
import type { ImageMetadata } from './embed-metadata.ts';

type Value = string | number | boolean | null;

/** Every generate parameter but the prompt, which has a place of its own; null: not written. */
const INPUT_SPELLING = {
  model: (job) => modelEnumName(job.model),
  // The schema's enums are core's values in upper case (schema/model.ts).
  imageSize: (job) => job.imageSize.toUpperCase(),
  numInferenceSteps: (job) => job.numInferenceSteps,
  guidanceScale: (job) => job.guidanceScale,
  numImages: (job) => job.numImages,
  enableSafetyChecker: (job) => job.enableSafetyChecker,
  outputFormat: (job) => job.outputFormat.toUpperCase(),
  acceleration: (job) => job.acceleration.toUpperCase(),
} as const satisfies Record<Exclude<keyof GenerateParams, 'prompt'>, (job: JobRecord) => Value>;

export function imageMetadataOf(job: JobRecord): ImageMetadata {
  const parameters = Object.entries(INPUT_SPELLING).flatMap(([name, spell]) => {
    const value = spell(job);
    return value === null ? [] : [[name, value] as const];
  });
  return { prompt: job.prompt, parameters: [...parameters, ['jobId', job.id]], software: 'zimage' };
}

/**
 * What a job costs, known before it is submitted: price per image × images, from the model
 * table. Pixazo does not charge for a job that ends ERROR (a system error), so its settled cost
 * is zero; FAILED is charged like COMPLETED.
 */
import {
  costMicroUsd,
  type GenerateInput,
  type GenerateParams,
  MODELS,
  type ModelKey,
  microUsdToUsd,
  validateGenerateInput,
} from '@zimage/pixazo-spec';
import type { JobStatus } from './status.ts';

export interface CostEstimate {
  model: ModelKey;
  numImages: number;
  perImageMicroUsd: number;
  /** Exact, in millionths of a dollar: sum these, not `usd`. */
  microUsd: number;
  usd: number;
}

/** The cost of validated parameters. */
export function costOfParams(params: Pick<GenerateParams, 'model' | 'numImages'>): CostEstimate {
  const spec = MODELS[params.model];
  const microUsd = costMicroUsd(spec, params.numImages);
  return {
    model: params.model,
    numImages: params.numImages,
    perImageMicroUsd: spec.priceMicroUsdPerImage,
    microUsd,
    usd: microUsdToUsd(microUsd),
  };
}

/** Validates `input` (throws ValidationError) and prices it. */
export function estimateCost(input: GenerateInput): CostEstimate {
  return costOfParams(validateGenerateInput(input));
}

/** What a job that reached `status` is charged, in micro-USD: nothing for ERROR. */
export function settledCostMicroUsd(estimate: CostEstimate, status: JobStatus): number {
  return status === 'ERROR' ? 0 : estimate.microUsd;
}

/**
 * Jobs and models as the gateway gives them. The models are the real schema's answer to the
 * client's own models query (what the bot sends), so no test keeps a copy of the model table.
 */
import { type Job, type ModelInfo, ModelsQuery } from '@zimage/client';
import { modelsAnswer } from '@zimage/gateway';
import { print } from 'graphql';

export const MODELS = ((await modelsAnswer(print(ModelsQuery))) as { models: ModelInfo[] }).models;

export function model(id: ModelInfo['id']): ModelInfo {
  const found = MODELS.find((m) => m.id === id);
  if (!found) throw new Error(`the gateway offers no ${id}`);
  return found;
}

export const TURBO = model('Z_IMAGE_TURBO');
export const BASE = model('Z_IMAGE_BASE');

export const OWNER_ID = '111111111111111111';
const JOB_ID = 'job_0192f3a4b5c6d7e8f90a1b2c3d4e5f60';

/** A Turbo job with its defaults (its model's acceleration for another), queued at position 2. */
export function gatewayJob(overrides: Partial<Job> = {}): Job {
  return {
    acceleration: model(overrides.model ?? TURBO.id).defaultAcceleration,
    id: JOB_ID,
    status: 'QUEUED',
    model: TURBO.id,
    prompt: 'a lighthouse in a storm, oil painting',
    imageSize: 'SQUARE_1_1',
    numInferenceSteps: TURBO.defaultSteps,
    guidanceScale: null,
    numImages: 1,
    enableSafetyChecker: true,
    outputFormat: 'PNG',
    queuePosition: 2,
    requestId: null,
    error: null,
    costUsd: TURBO.priceUsdPerImage,
    expectedDurationMs: TURBO.expectedDurationMs,
    endUserId: `discord:${OWNER_ID}`,
    createdAt: '2026-01-01T12:00:00.000Z',
    updatedAt: '2026-01-01T12:00:00.000Z',
    startedAt: null,
    completedAt: null,
    imagesExpiredAt: null,
    images: [],
    ...overrides,
  };
}

export function completedJob(overrides: Partial<Job> = {}): Job {
  const numImages = overrides.numImages ?? 1;
  return gatewayJob({
    status: 'COMPLETED',
    queuePosition: null,
    requestId: 'z-image-turbo-834_0192f3a4-b5c6-7d7e-8f90-a1b2c3d4e5f6',
    startedAt: '2026-01-01T12:00:01.000Z',
    completedAt: '2026-01-01T12:00:04.500Z',
    updatedAt: '2026-01-01T12:00:04.500Z',
    numImages,
    costUsd: TURBO.priceUsdPerImage * numImages,
    images: Array.from({ length: numImages }, (_, i) => ({
      url: `https://gw.example/images/${JOB_ID}/${i + 1}.png`,
      width: 1024,
      height: 1024,
      contentType: 'image/png',
      byteLength: 1_234_567,
    })),
    ...overrides,
  });
}

import type { GatewayJob, ModelInfo } from '../../src/gateway-client.ts';

/** The two models as the gateway lists them. */
export const MODELS: ModelInfo[] = [
  {
    id: 'Z_IMAGE_TURBO',
    name: 'Z-Image Turbo',
    priceUsdPerImage: 0.008,
    defaultSteps: 8,
    minSteps: 1,
    maxSteps: 50,
    supportsGuidanceScale: false,
    minGuidanceScale: null,
    maxGuidanceScale: null,
    maxImages: 4,
  },
  {
    id: 'Z_IMAGE_BASE',
    name: 'Z-Image Base',
    priceUsdPerImage: 0.01,
    defaultSteps: 28,
    minSteps: 10,
    maxSteps: 100,
    supportsGuidanceScale: true,
    minGuidanceScale: 1,
    maxGuidanceScale: 20,
    maxImages: 4,
  },
];

export const OWNER_ID = '111111111111111111';

export function gatewayJob(overrides: Partial<GatewayJob> = {}): GatewayJob {
  return {
    id: 'job_0192f3a4b5c6d7e8f90a1b2c3d4e5f60',
    model: 'Z_IMAGE_TURBO',
    prompt: 'a lighthouse in a storm, oil painting',
    imageSize: 'SQUARE_1_1',
    numInferenceSteps: 8,
    guidanceScale: null,
    numImages: 1,
    enableSafetyChecker: true,
    outputFormat: 'PNG',
    acceleration: 'NONE',
    status: 'QUEUED',
    queuePosition: 2,
    images: [],
    error: null,
    costUsd: 0.008,
    endUserId: `discord:${OWNER_ID}`,
    createdAt: '2026-01-01T12:00:00.000Z',
    startedAt: null,
    completedAt: null,
    ...overrides,
  };
}

export function completedJob(overrides: Partial<GatewayJob> = {}): GatewayJob {
  const numImages = overrides.numImages ?? 1;
  return gatewayJob({
    status: 'COMPLETED',
    queuePosition: null,
    startedAt: '2026-01-01T12:00:01.000Z',
    completedAt: '2026-01-01T12:00:04.500Z',
    numImages,
    costUsd: 0.008 * numImages,
    images: Array.from({ length: numImages }, (_, i) => ({
      url: `/images/job_0192f3a4b5c6d7e8f90a1b2c3d4e5f60/${i + 1}.png`,
      width: 1024,
      height: 1024,
      contentType: 'image/png',
    })),
    ...overrides,
  });
}

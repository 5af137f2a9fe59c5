/**
 * The one place an image store is chosen (IMAGE_STORE): a directory under DATA_DIR, or an
 * S3-compatible bucket, whose SDK is loaded only then. Either way images on their way in are
 * staged under DATA_DIR.
 */
import path from 'node:path';
import type { ImageStoreConfig } from '../config.ts';
import type { Logger } from '../domain/logger.ts';
import type { Metrics } from '../metrics.ts';
import { createImageStore, type ImageBackend, type ImageStore } from './image-store.ts';
import { createLocalBackend } from './local-backend.ts';
import type { S3BackendOptions } from './s3-backend.ts';

interface OpenOptions {
  dataDir: string;
  metrics?: Pick<Metrics, 'imageStoreError'> | undefined;
  logger?: Logger | undefined;
}

const withBackend = (backend: ImageBackend, options: OpenOptions) =>
  createImageStore(backend, {
    stagingDir: path.join(options.dataDir, 'staging'),
    metrics: options.metrics,
    logger: options.logger,
  });

/** Images under DATA_DIR/images. */
export const createLocalImageStore = (options: OpenOptions): ImageStore =>
  withBackend(createLocalBackend({ dir: path.join(options.dataDir, 'images') }), options);

/** Opens the configured store; an S3 bucket must answer (see s3-backend.ts). */
export async function openImageStore(
  config: ImageStoreConfig,
  options: OpenOptions,
  /** Tests: listing page size, timeouts. */
  s3Overrides: Partial<S3BackendOptions> = {},
): Promise<ImageStore> {
  if (config.kind === 'local') return createLocalImageStore(options);
  const { openS3Backend } = await import('./s3-backend.ts');
  return withBackend(await openS3Backend({ ...config, ...s3Overrides }), options);
}

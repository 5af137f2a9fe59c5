import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { createLocalBackend } from '../src/images/local-backend.ts';
import { imageStoreSuite } from './image-store.suite.ts';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-images-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

imageStoreSuite('local directory', {
  open: async () => createLocalBackend({ dir: path.join(dataDir, 'images') }),
  rawBytes: (key) => readFile(path.join(dataDir, 'images', key)),
  stagingDir: () => path.join(dataDir, 'staging'),
});

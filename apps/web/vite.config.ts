import { createRequire } from 'node:module';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

/** The gateway `pnpm dev` proxies to; `pnpm start` at the repo root listens here by default. */
const gateway = process.env.ZIMAGE_GATEWAY_URL ?? 'http://127.0.0.1:4000';

const fromGateway = createRequire(createRequire(import.meta.url).resolve('@zimage/gateway'));

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    proxy: {
      '/graphql': { target: gateway, ws: true },
      '/images': { target: gateway },
    },
  },
  build: {
    // The budget script reads the entry chunk from the manifest.
    manifest: true,
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'components',
          environment: 'jsdom',
          setupFiles: ['./test/setup.ts'],
          include: ['test/*.test.{ts,tsx}'],
        },
      },
      {
        extends: true,
        test: { name: 'node', environment: 'node', include: ['test/node/*.test.ts'] },
      },
      {
        extends: true,
        resolve: {
          // The e2e tests run the real gateway in-process. graphql 16 ships index.mjs and
          // index.js: the gateway's dependencies loaded by Node get the CommonJS file, its
          // sources transformed by Vitest the .mjs one, and two copies refuse each other's
          // schemas. Everything gets the gateway's own CommonJS file here.
          alias: [{ find: /^graphql$/, replacement: fromGateway.resolve('graphql') }],
        },
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/*.test.ts'],
          // Waits for states (a job finishing, a socket coming back), never for a time.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

import react from '@vitejs/plugin-react';
import { graphqlAlias } from '@zimage/gateway/vitest-graphql';
import { defineConfig } from 'vitest/config';
import { LOADED_MACHINE_TIMEOUTS } from '../../vitest.shared.ts';

/** The gateway `pnpm dev` proxies to; `pnpm start` at the repo root listens here by default. */
const gateway = process.env.ZIMAGE_GATEWAY_URL ?? 'http://127.0.0.1:4000';

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
    ...LOADED_MACHINE_TIMEOUTS,
    projects: [
      {
        extends: true,
        // The fake gateway's fixtures are the real gateway's answers (see the alias's comment).
        resolve: { alias: [graphqlAlias] },
        test: {
          name: 'components',
          environment: 'jsdom',
          globalSetup: ['./test/support/gateway-answers.ts'],
          setupFiles: ['./test/setup.ts'],
          include: ['test/*.test.{ts,tsx}'],
        },
      },
      {
        extends: true,
        // The e2e tests run the real gateway in-process (see the alias's comment).
        resolve: { alias: [graphqlAlias] },
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

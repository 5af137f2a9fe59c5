import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// The integration tests run the real gateway in-process. graphql 16 ships both index.mjs and
// index.js: the gateway's dependencies loaded by Node get the CommonJS file, its sources
// transformed by Vitest the .mjs one, and two copies of graphql refuse each other's schemas.
// Everyone gets the gateway's own CommonJS file here (the bot itself does not use graphql).
const fromGateway = createRequire(createRequire(import.meta.url).resolve('@zimage/gateway'));

export default defineConfig({
  resolve: {
    alias: [{ find: /^graphql$/, replacement: fromGateway.resolve('graphql') }],
  },
  test: {
    // Integration tests wait for real jobs on the simulator and for the 2 s edit throttle.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

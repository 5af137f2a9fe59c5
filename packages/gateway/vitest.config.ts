import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships both index.mjs and index.js. Dependencies loaded by Node (Pothos, Yoga,
    // graphql-ws) get the CommonJS one; sources transformed by Vitest would get the .mjs one,
    // and two copies of graphql refuse each other's schemas. Everyone gets the same file here.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
});

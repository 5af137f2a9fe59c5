/**
 * For every Vitest config that runs the gateway in-process (its own tests, the dashboard's e2e,
 * the bot's integration tests). graphql 16 ships both index.mjs and index.js: dependencies
 * loaded by Node (Pothos, Yoga, graphql-ws) get the CommonJS file, sources transformed by
 * Vitest would get the .mjs one, and two copies of graphql refuse each other's schemas. This
 * alias gives everyone the gateway's own CommonJS file.
 */
import { createRequire } from 'node:module';

export const graphqlAlias = {
  find: /^graphql$/,
  replacement: createRequire(import.meta.url).resolve('graphql'),
};

import { defineConfig } from 'vitest/config';
import { graphqlAlias } from './vitest-graphql.ts';

export default defineConfig({ resolve: { alias: [graphqlAlias] } });

/** What the package promises about itself: types from the current schema, and browser-safe code. */
import { readdir, readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { renderGraphqlEnv } from '../scripts/graphql-env.ts';

it("graphql-env.d.ts matches the gateway's printed schema (pnpm --filter @zimage/client graphql-env)", async () => {
  const { path, text } = await renderGraphqlEnv();
  expect(await readFile(path, 'utf8')).toBe(text);
});

it('imports nothing Node-only, so it runs in browsers too', async () => {
  const srcDir = new URL('../src/', import.meta.url);
  const allowed = new Set(['@0no-co/graphql.web', '@zimage/contract', 'gql.tada', 'graphql-ws']);
  for (const file of await readdir(srcDir)) {
    const source = await readFile(new URL(file, srcDir), 'utf8');
    for (const [, specifier] of source.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
      if (specifier?.startsWith('./')) continue;
      expect(allowed, `${file} imports ${specifier}`).toContain(specifier);
    }
  }
});

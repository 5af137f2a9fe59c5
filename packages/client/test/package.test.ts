/** What the package promises about itself: types from the current schema, and browser-safe code. */
import { readdir, readFile } from 'node:fs/promises';
import { buildSchema, type DocumentNode, print, validate } from 'graphql';
import { expect, it } from 'vitest';
import { renderGraphqlEnv } from '../scripts/graphql-env.ts';
import * as documents from '../src/documents.ts';

it("graphql-env.d.ts matches the gateway's printed schema (pnpm --filter @zimage/client graphql-env)", async () => {
  const { path, text } = await renderGraphqlEnv();
  expect(await readFile(path, 'utf8')).toBe(text);
});

// gql.tada types a field the schema lacks as `unknown` instead of failing the typecheck (only
// its editor plugin reports it), so every document is validated against the schema here.
it('sends only operations the printed schema accepts', async () => {
  const schemaFile = new URL('../../gateway/schema.graphql', import.meta.url);
  const schema = buildSchema(await readFile(schemaFile, 'utf8'));
  const operations = Object.entries(documents);
  expect(operations.length).toBeGreaterThan(0);
  for (const [name, document] of operations) {
    const errors = validate(schema, document as unknown as DocumentNode);
    expect(
      errors.map((e) => e.message),
      `${name}: ${print(document as never)}`,
    ).toEqual([]);
  }
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

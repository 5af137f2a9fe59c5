import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { renderGraphqlEnv } from '../../../../packages/client/scripts/graphql-env.ts';

it("graphql-env.d.ts matches the gateway's printed schema (pnpm --filter @zimage/web graphql-env)", async () => {
  const { path, text } = await renderGraphqlEnv(resolve(import.meta.dirname, '../..'));
  expect(await readFile(path, 'utf8')).toBe(text);
});

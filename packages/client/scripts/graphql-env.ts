/**
 * Writes src/graphql-env.d.ts, the schema types gql.tada infers the client's operations from,
 * from the gateway's printed schema. `gql.tada generate output` cannot run here: it reads
 * tsconfig.json through the TypeScript JS API, which TypeScript 7 (native) no longer ships.
 * This does the same from the gql.tada/ts-plugin entry of the client's tsconfig.json, so the
 * plugin config stays the one source. The dashboard types its operations with the client's
 * `graphql` tag, so this one file serves both.
 *
 * `node scripts/graphql-env.ts` writes the file; `--check` fails when it is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFromSDL, minifyIntrospection, outputIntrospectionFile } from '@gql.tada/internal';

const clientDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface TadaPluginConfig {
  name: string;
  schema: string;
  tadaOutputLocation: string;
}

async function readPluginConfig(): Promise<TadaPluginConfig> {
  const tsconfig = JSON.parse(await readFile(resolve(clientDir, 'tsconfig.json'), 'utf8'));
  const plugins: TadaPluginConfig[] = tsconfig.compilerOptions?.plugins ?? [];
  const plugin = plugins.find((p) => p.name === 'gql.tada/ts-plugin');
  if (!plugin) throw new Error('tsconfig.json has no gql.tada/ts-plugin entry');
  return plugin;
}

/** The generated file's path and the text it should have. */
export async function renderGraphqlEnv(): Promise<{ path: string; text: string }> {
  const plugin = await readPluginConfig();
  const loader = loadFromSDL({ file: resolve(clientDir, plugin.schema), assumeValid: true });
  const result = await loader.load();
  if (!result) throw new Error(`cannot load the schema ${plugin.schema}`);
  const path = resolve(clientDir, plugin.tadaOutputLocation);
  // The same call `gql.tada generate output` makes, so switching back to it changes nothing.
  const text = outputIntrospectionFile(minifyIntrospection(result.introspection), {
    fileType: path,
    shouldPreprocess: true,
  });
  return { path, text };
}

if (import.meta.main) {
  const { path, text } = await renderGraphqlEnv();
  if (process.argv.includes('--check')) {
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`${path} is out of date: run pnpm --filter @zimage/client graphql-env`);
      process.exit(1);
    }
  } else {
    await writeFile(path, text);
    console.log(`wrote ${path}`);
  }
}

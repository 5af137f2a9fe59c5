/**
 * Fails the build when the JavaScript a first visit must load is over budget. "Initial" is the
 * entry chunk and every chunk it imports statically (from Vite's manifest); lazy chunks, such as
 * the job detail, load later and are listed but not counted. Sizes are gzip at the default level,
 * as a server would send them.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 150_000;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

const distDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

export async function measureInitialJs(dir = distDir) {
  const manifest: Record<string, ManifestChunk> = JSON.parse(
    await readFile(resolve(dir, '.vite/manifest.json'), 'utf8'),
  );
  const initial = new Set<string>();
  const visit = (name: string) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const imported of manifest[name]?.imports ?? []) visit(imported);
  };
  for (const [name, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(name);

  const chunks = await Promise.all(
    Object.entries(manifest)
      .filter(([, chunk]) => chunk.file.endsWith('.js'))
      .map(async ([name, chunk]) => ({
        file: chunk.file,
        initial: initial.has(name),
        gzipBytes: gzipSync(await readFile(resolve(dir, chunk.file))).byteLength,
      })),
  );
  const initialBytes = chunks.filter((c) => c.initial).reduce((sum, c) => sum + c.gzipBytes, 0);
  return { chunks, initialBytes };
}

if (import.meta.main) {
  const { chunks, initialBytes } = await measureInitialJs();
  const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
  for (const chunk of chunks) {
    console.log(
      `${chunk.initial ? 'initial' : 'lazy   '}  ${kb(chunk.gzipBytes).padStart(9)}  ${chunk.file}`,
    );
  }
  const verdict = `initial JavaScript: ${kb(initialBytes)} gzipped (budget ${kb(BUDGET_BYTES)})`;
  if (initialBytes > BUDGET_BYTES) {
    console.error(`Over budget: ${verdict}`);
    process.exit(1);
  }
  console.log(verdict);
}

/**
 * The gateway's layers, as docs/architecture.md declares them ("Layers of the gateway"): every
 * folder and top-level file of src/ sits on one line, and a module imports only its own unit
 * and the lines below it. The order is read from the document, so the two cannot drift.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const ARCHITECTURE = fileURLToPath(new URL('../../../docs/architecture.md', import.meta.url));

/** The ```layers block: one line per layer, highest first; units before an em dash. */
function declaredLayers(markdown: string): string[][] {
  const block = /^```layers\n([\s\S]*?)^```/m.exec(markdown)?.[1];
  if (block === undefined) throw new Error('docs/architecture.md has no ```layers block');
  return block
    .split('\n')
    .map((line) => (line.split('—')[0] ?? '').trim())
    .filter((units) => units !== '')
    .map((units) => units.split(/\s+/))
    .reverse();
}

/** Relative specifiers of static imports and re-exports, side-effect and dynamic imports. */
function relativeImports(source: string): string[] {
  const pattern = /(?:\bfrom\s+|^\s*import\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/gm;
  return [...source.matchAll(pattern)].map((match) => match[1] as string);
}

/** `domain/` for a file in a folder of src/, the file's name for a top-level file. */
function unitOf(file: string): string {
  const [first, ...rest] = file.split('/');
  return rest.length > 0 ? `${first}/` : (first as string);
}

/** Each import that reaches a unit on the same line or above, as "from → to". */
function violations(files: ReadonlyMap<string, string>, layers: string[][]): string[] {
  const rank = new Map(layers.flatMap((units, level) => units.map((unit) => [unit, level])));
  const found: string[] = [];
  for (const [file, source] of files) {
    const unit = unitOf(file);
    for (const specifier of relativeImports(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const targetUnit = unitOf(target);
      if (targetUnit === unit) continue;
      const from = rank.get(unit) ?? Number.NaN;
      const to = rank.get(targetUnit) ?? Number.NaN;
      if (!(to < from)) found.push(`${file} → ${target}`);
    }
  }
  return found;
}

function sourceFiles(): Map<string, string> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.split(path.sep).join('/'));
  return new Map(files.map((file) => [file, readFileSync(path.join(SRC, file), 'utf8')]));
}

const layers = declaredLayers(readFileSync(ARCHITECTURE, 'utf8'));

describe('gateway layers', () => {
  it('places every folder and top-level file of src/ on exactly one line', () => {
    const units = [...new Set([...sourceFiles().keys()].map(unitOf))].sort();
    const declared = layers.flat();
    expect(declared.length).toBe(new Set(declared).size);
    expect([...declared].sort()).toEqual(units);
  });

  it('has no module importing a unit beside or above its own', () => {
    expect(violations(sourceFiles(), layers)).toEqual([]);
  });

  it('catches imports upward and sideways, type-only, re-exported or dynamic', () => {
    const files = new Map([
      ['domain/job.ts', "import type { Store } from '../store/store.ts';"],
      ['store/sqlite.ts', "import { a } from './store.ts';\nexport { b } from '../domain/job.ts';"],
      ['pubsub/memory.ts', "const budget = await import('../limits/budget.ts');"],
      ['schema/schema.ts', "import './job.ts';\nimport '../graphql/yoga.ts';"],
    ]);
    const order = [['domain/'], ['store/', 'pubsub/', 'limits/'], ['schema/'], ['graphql/']];
    expect(violations(files, order)).toEqual([
      'domain/job.ts → store/store.ts',
      'pubsub/memory.ts → limits/budget.ts',
      'schema/schema.ts → graphql/yoga.ts',
    ]);
  });
});

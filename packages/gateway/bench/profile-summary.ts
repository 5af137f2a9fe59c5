/**
 * Where a CPU profile's time went: `node bench/profile-summary.ts <file.cpuprofile> [top]`
 * prints the functions with the most self time, and the most inclusive time, as a share of the
 * samples that were not idle.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[] };
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    .replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')
    .replace(/^file:\/\/.*\/packages\//, '');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
let busy = 0;
const walk = (node: ProfileNode, stack: Set<string>): number => {
  const name = label(node);
  let hits = node.hitCount ?? 0;
  if (name.startsWith('(idle)') || name.startsWith('(program)')) hits = 0;
  self.set(name, (self.get(name) ?? 0) + hits);
  busy += hits;
  const inner = new Set(stack).add(name);
  let sum = hits;
  for (const child of node.children ?? []) sum += walk(byId.get(child) as ProfileNode, inner);
  if (!stack.has(name)) total.set(name, (total.get(name) ?? 0) + sum);
  return sum;
};
walk(profile.nodes[0] as ProfileNode, new Set());
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (${busy} busy samples)`);
  for (const [name, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * hits) / busy).toFixed(1).padStart(6)}%  ${name}`);
  }
};
print('self time', self);
print('inclusive time', total);

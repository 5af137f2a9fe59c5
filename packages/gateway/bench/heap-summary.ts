/**
 * What the live allocations of a sampling heap profile are: `node bench/heap-summary.ts
 * <file.heapprofile> [top]` prints the bytes still live by allocating function, and by the
 * nearest frame in a named package or in the gateway's own code.
 */
import { readFile } from 'node:fs/promises';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/heap-summary.ts <file.heapprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const { head } = JSON.parse(await readFile(file, 'utf8')) as { head: HeapNode };
const short = (url: string) =>
  url
    .replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')
    .replace(/^file:\/\/.*\/packages\//, '');
const label = ({ callFrame: { functionName, url, lineNumber } }: HeapNode) =>
  `${functionName || '(anonymous)'} ${short(url)}:${lineNumber + 1}`;
const owner = (stack: HeapNode[]) => {
  for (let i = stack.length - 1; i >= 0; i--) {
    const url = (stack[i] as HeapNode).callFrame.url;
    if (url.includes('/packages/gateway/src/')) return `gateway ${label(stack[i] as HeapNode)}`;
    const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return pkg[1] as string;
  }
  return 'node internals';
};
const bySite = new Map<string, number>();
const byOwner = new Map<string, number>();
let total = 0;
const walk = (node: HeapNode, stack: HeapNode[]) => {
  const path = [...stack, node];
  if (node.selfSize) {
    total += node.selfSize;
    bySite.set(label(node), (bySite.get(label(node)) ?? 0) + node.selfSize);
    byOwner.set(owner(path), (byOwner.get(owner(path)) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, path);
};
walk(head, []);
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (${(total / 1024).toFixed(0)} KB live)`);
  for (const [name, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(bytes / 1024).toFixed(0).padStart(8)} KB  ${name}`);
  }
};
print('by allocating function', bySite);
print('by nearest package (or gateway function)', byOwner);

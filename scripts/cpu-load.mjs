#!/usr/bin/env node
/**
 * Keeps every core busy with processes that spin, to check that the tests pass on a loaded
 * machine (docs/contributing.md, "Under load"):
 *
 *   node scripts/cpu-load.mjs                 # until Ctrl-C
 *   node scripts/cpu-load.mjs -- pnpm test    # the command under load; exits with its code
 *
 * LOAD_PROCESSES sets how many spin (default: one per core). Plain JavaScript, so any Node runs it.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const count = Number(process.env.LOAD_PROCESSES ?? availableParallelism());
if (!Number.isInteger(count) || count < 1) {
  console.error(
    `cpu-load: LOAD_PROCESSES must be a whole number ≥ 1, got ${process.env.LOAD_PROCESSES}`,
  );
  process.exit(2);
}

// Each spinner stops by itself once this process is gone (its parent changes), even after a kill -9.
const SPIN =
  'const p = process.ppid; for (;;) { for (let i = 0; i < 1e7; i++); if (process.ppid !== p) process.exit(); }';
const spinners = Array.from({ length: count }, () =>
  spawn(process.execPath, ['-e', SPIN], { stdio: 'ignore' }),
);
const stopSpinners = () => {
  for (const spinner of spinners) spinner.kill();
};

const separator = process.argv.indexOf('--');
const command = separator === -1 ? [] : process.argv.slice(separator + 1);
console.error(
  `cpu-load: ${count} spinning process(es)${command.length ? ` while running: ${command.join(' ')}` : '; Ctrl-C stops them'}`,
);

let child = null;
if (command.length > 0) {
  child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  child.on('error', (error) => {
    console.error(`cpu-load: cannot run ${command[0]}: ${error.message}`);
    stopSpinners();
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    stopSpinners();
    process.exit(code ?? (signal ? 128 : 1));
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopSpinners();
    if (child) child.kill(signal);
    else process.exit(0);
  });
}

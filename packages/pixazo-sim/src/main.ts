/**
 * `pnpm sim`: the simulator alone, configured from the environment (see README.md).
 * Start-up problems end the process with one line naming the cause, never a stack trace.
 */
import { EnvError, parseSimEnv } from './env.ts';
import { startPixazoSim } from './sim.ts';

function fail(message: string): never {
  console.error(`pixazo-sim: ${message}`);
  process.exit(1);
}

let env: ReturnType<typeof parseSimEnv>;
try {
  env = parseSimEnv(process.env);
} catch (error) {
  if (error instanceof EnvError) fail(error.message);
  throw error;
}

const sim = await startPixazoSim(env).catch((error: NodeJS.ErrnoException) =>
  fail(`cannot listen on ${env.host}:${env.port}: ${error.code ?? error.message}`),
);
// Before the start-up lines: whoever reads them as "ready" may stop the simulator at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

const keyCount = Object.keys(env.keys).length;
console.log(`Pixazo simulator listening on ${sim.url}`);
console.log(`  ${keyCount} key(s), time scale ${env.timeScale}; controls at ${sim.url}/_sim/`);

/**
 * Entry point of the simulator as a process of its own, with library options `pnpm sim` takes
 * no variable for (a seed, faults, no rate limit, a request log long enough for a whole test),
 * as JSON in PIXAZO_SIM_OPTIONS: see `startSimProcessWithOptions` (sim-process.ts). It prints
 * the line `pnpm sim` prints.
 */
import { type PixazoSimOptions, startPixazoSim } from '@zimage/pixazo-sim';

const options = JSON.parse(process.env.PIXAZO_SIM_OPTIONS ?? '{}') as PixazoSimOptions;
const sim = await startPixazoSim(options);
process.once('SIGTERM', () => {
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
console.log(`Pixazo simulator listening on ${sim.url}`);

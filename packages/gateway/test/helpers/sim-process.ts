/**
 * The simulator as a process of its own, with library options `pnpm sim` takes no variable for
 * (a seed, no rate limit, a request log long enough for a whole test): a test's entry point,
 * started by `startProcess(SIM_WITH_OPTIONS, { PIXAZO_SIM_OPTIONS: JSON.stringify(options) })`.
 * It prints the line `pnpm sim` prints, so `printed(/listening on (http:\/\/\S+)/)` finds it.
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

/**
 * The Pixazo simulator in a process of its own (as Pixazo runs apart from the gateways), driven
 * through its `/_sim/` control routes: the request log, its jobs, faults and balances.
 */
import type { PixazoSimOptions } from '@zimage/pixazo-sim';
import { type RunningProcess, SIM_MAIN, SIM_WITH_OPTIONS, startProcess } from './processes.ts';

export interface SimProcess {
  readonly run: RunningProcess;
  /** e.g. http://127.0.0.1:4010 */
  readonly url: string;
  /** GET /_sim/<route> (e.g. `requests?route=submit`), its JSON answer. */
  get<T>(route: string): Promise<T>;
  /** PUT /_sim/<route> with a JSON body (`key`: the subscription key header, for balances). */
  put(route: string, body: unknown, key?: string): Promise<void>;
}

/** A simulator accepting `keys` (`key=balanceUsd,…`), at real durations (time scale 1). */
export function startSimProcess(keys: string): Promise<SimProcess> {
  return controlled(
    startProcess(SIM_MAIN, {
      PIXAZO_SIM_PORT: '0',
      PIXAZO_SIM_KEYS: keys,
      PIXAZO_SIM_TIME_SCALE: '1',
    }),
  );
}

/** A simulator with library options (a seed, faults, …) no `pnpm sim` variable sets. */
export function startSimProcessWithOptions(options: PixazoSimOptions): Promise<SimProcess> {
  return controlled(
    startProcess(SIM_WITH_OPTIONS, { PIXAZO_SIM_OPTIONS: JSON.stringify({ port: 0, ...options }) }),
  );
}

async function controlled(run: RunningProcess): Promise<SimProcess> {
  const url = await run.printed(/listening on (http:\/\/\S+)/);
  return {
    run,
    url,
    async get<T>(route: string) {
      const response = await fetch(`${url}/_sim/${route}`);
      if (!response.ok) throw new Error(`GET /_sim/${route}: ${response.status}`);
      return (await response.json()) as T;
    },
    async put(route, body, key) {
      const response = await fetch(`${url}/_sim/${route}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          ...(key ? { 'Ocp-Apim-Subscription-Key': key } : {}),
        },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`PUT /_sim/${route}: ${await response.text()}`);
    },
  };
}

/** One entry of `GET /_sim/requests`: null status while held or dropped. */
export interface SimRequest {
  status: number | null;
}

/** One entry of `GET /_sim/jobs`: what Pixazo accepted (one per POST it took). */
export interface SimJob {
  request: { prompt: string };
}

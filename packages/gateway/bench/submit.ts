/**
 * (b) Submit latency and throughput: `generateImage` through the gateway against the same
 * job POSTed straight to the Pixazo simulator (the baseline), sequentially and with requests
 * in flight concurrently. The simulator and the gateway each run in their own process; this
 * process is the client.
 */
import { Agent, request } from 'node:http';
import { toRequestBody, validateGenerateInput } from '@zimage/core';
import type { BenchReport, Table } from './lib/report.ts';
import { verdict } from './lib/report.ts';
import { type ChildHandle, startChild, wallClockMs } from './lib/rpc.ts';
import { mean, ms, num, percentile, ratio, sleep } from './lib/stats.ts';
import type { StartedServer } from './servers/server-process.ts';

export interface SubmitOptions {
  /** Requests per phase (sequential, concurrent) and target. */
  requests: number;
  /** In flight at once in the concurrent phase. */
  concurrency: number;
  log?: (line: string) => void;
}

export const SUBMIT_TARGETS = { overheadP50Ms: 2 };

const PROMPT = 'a red bicycle leaning on a stone wall, morning light';
const GENERATE = `mutation ($input: GenerateImageInput!) {
  generateImage(input: $input) { id status }
}`;

interface Target {
  name: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** Whether the answer is a success. */
  accepted(status: number, body: string): boolean;
}

interface Phase {
  latencies: number[];
  /** Wall clock of each request's start, in order. */
  sentAt: number[];
  elapsedMs: number;
  failures: number;
}

function post(agent: Agent, target: Target): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        method: 'POST',
        agent,
        headers: {
          ...target.headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(target.body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(target.body);
  });
}

async function runPhase(target: Target, count: number, inFlight: number): Promise<Phase> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      const t0 = performance.now();
      sentAt.push(wallClockMs());
      const { status, body } = await post(agent, target);
      latencies.push(performance.now() - t0);
      if (!target.accepted(status, body)) {
        failures++;
        if (failures === 1) throw new Error(`${target.name} answered ${status} ${body}`);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { latencies, sentAt, elapsedMs, failures };
}

export async function runSubmit(options: SubmitOptions): Promise<{ report: BenchReport }> {
  const log = options.log ?? (() => {});
  const children: ChildHandle[] = [];
  try {
    // Long jobs (time scale 100) and a first poll after 10 minutes: nothing but the submits
    // themselves happens while they are measured.
    const sim = await startChild('simulator', 'servers/server-process.ts');
    children.push(sim);
    const simServer = await sim.call<StartedServer>('startSim', { timeScale: 100 });
    const gatewayProcess = await startChild('gateway', 'servers/server-process.ts');
    children.push(gatewayProcess);
    const gateway = await gatewayProcess.call<StartedServer>('startGateway', {
      pixazoUrl: simServer.url,
      maxConcurrency: 1000,
      pollSchedule: { firstDelayMs: 600_000, minIntervalMs: 600_000, maxIntervalMs: 600_000 },
    });

    const params = validateGenerateInput({
      model: 'turbo',
      prompt: PROMPT,
      imageSize: 'square_1_1',
    });
    const direct: Target = {
      name: 'simulator',
      url: new URL('/z-image-turbo-834/v1/z-image-turbo-request', simServer.url),
      headers: { 'ocp-apim-subscription-key': simServer.key as string },
      body: JSON.stringify(toRequestBody(params)),
      accepted: (status) => status === 202,
    };
    const viaGateway: Target = {
      name: 'gateway',
      url: new URL('/graphql', gateway.url),
      headers: { authorization: `Bearer ${gateway.key}` },
      body: JSON.stringify({
        query: GENERATE,
        variables: { input: { model: 'Z_IMAGE_TURBO', prompt: PROMPT, imageSize: 'SQUARE_1_1' } },
      }),
      accepted: (status, body) => status === 200 && body.includes('"status":"QUEUED"'),
    };

    // The gateway holds at most 1000 jobs at Pixazo (its maximum PIXAZO_MAX_CONCURRENCY), and
    // every measured job must be POSTed right away.
    const warmUp = Math.min(50, options.requests);
    if (warmUp + 2 * options.requests > 1000) {
      throw new Error('--submits: at most 475 (the gateway keeps at most 1000 jobs at Pixazo)');
    }
    await runPhase(direct, warmUp, 4);
    await runPhase(viaGateway, warmUp, 4);
    await sleep(500);

    const phases = {} as Record<'seqDirect' | 'seqGateway' | 'conDirect' | 'conGateway', Phase>;
    let pixazoArrivals: number[] = [];
    phases.seqDirect = await runPhase(direct, options.requests, 1);
    await sleep(300);
    await sim.call('clearSimRequests');
    phases.seqGateway = await runPhase(viaGateway, options.requests, 1);
    await sleep(500);
    const posts = await sim.call<{ at: string }[]>('simRequests', { route: 'submit' });
    pixazoArrivals = posts.map((p) => Date.parse(p.at));
    log(
      `  sequential: direct ${ms(percentile(phases.seqDirect.latencies, 50), 2)}, gateway ${ms(percentile(phases.seqGateway.latencies, 50), 2)} p50`,
    );
    await sleep(300);
    phases.conDirect = await runPhase(direct, options.requests, options.concurrency);
    await sleep(300);
    phases.conGateway = await runPhase(viaGateway, options.requests, options.concurrency);
    log(
      `  ${options.concurrency} in flight: direct ${num(options.requests / (phases.conDirect.elapsedMs / 1000))}/s, gateway ${num(options.requests / (phases.conGateway.elapsedMs / 1000))}/s`,
    );

    // Sequential requests are POSTed to Pixazo in order: the i-th POST is the i-th job's.
    const toPixazo = phases.seqGateway.sentAt
      .slice(0, pixazoArrivals.length)
      .map((sent, i) => (pixazoArrivals[i] as number) - sent);

    const throughput = (phase: Phase) => phase.latencies.length / (phase.elapsedMs / 1000);
    const table = (title: string, d: Phase, g: Phase, sequential: boolean): Table => {
      const p50d = percentile(d.latencies, 50);
      const p50g = percentile(g.latencies, 50);
      const p99d = percentile(d.latencies, 99);
      const p99g = percentile(g.latencies, 99);
      const rows = [
        [
          'latency p50',
          ms(p50d, 2),
          ms(p50g, 2),
          ratio(p50g, p50d),
          ms(p50g - p50d, 2),
          sequential ? `overhead ≤ ${SUBMIT_TARGETS.overheadP50Ms} ms` : '',
          sequential ? verdict(p50g - p50d <= SUBMIT_TARGETS.overheadP50Ms) : '',
        ],
        ['latency p99', ms(p99d, 2), ms(p99g, 2), ratio(p99g, p99d), ms(p99g - p99d, 2), '', ''],
        [
          'latency mean',
          ms(mean(d.latencies), 2),
          ms(mean(g.latencies), 2),
          ratio(mean(g.latencies), mean(d.latencies)),
          ms(mean(g.latencies) - mean(d.latencies), 2),
          '',
          '',
        ],
        [
          'throughput',
          `${num(throughput(d))}/s`,
          `${num(throughput(g))}/s`,
          ratio(throughput(g), throughput(d)),
          '',
          '',
          '',
        ],
        [
          'failed requests',
          String(d.failures),
          String(g.failures),
          '',
          '',
          '0',
          verdict(g.failures === 0),
        ],
      ];
      if (sequential && toPixazo.length) {
        rows.push([
          'generateImage sent → its POST reaches Pixazo, p50 / p99 (1 ms clock)',
          '',
          `${ms(percentile(toPixazo, 50), 0)} / ${ms(percentile(toPixazo, 99), 0)}`,
          '',
          '',
          '',
          '',
        ]);
      }
      return {
        title,
        columns: [
          'metric',
          'straight to the simulator (baseline)',
          'through the gateway',
          'gateway / baseline',
          'gateway − baseline',
          'target',
          'result',
        ],
        rows,
      };
    };

    return {
      report: {
        benchmark: 'submit',
        title: '(b) Submit latency and throughput: gateway vs straight to the simulator',
        tables: [
          table(
            `${num(options.requests)} sequential submits (1 in flight)`,
            phases.seqDirect,
            phases.seqGateway,
            true,
          ),
          table(
            `${num(options.requests)} submits, ${options.concurrency} in flight`,
            phases.conDirect,
            phases.conGateway,
            false,
          ),
        ],
        notes: [
          "`generateImage` answers once the job is admitted, stored and QUEUED; the gateway POSTs it to Pixazo right after, in the background (its answer does not wait for Pixazo's). The last row of the first table shows when that POST reached the simulator.",
        ],
        method: [
          'The Pixazo simulator (no rate limit, a large balance, time scale 100 so no job ends during the run) and the gateway (`startGateway`, an API key without limits, PIXAZO_MAX_CONCURRENCY 1000, first status poll after 10 minutes) run in separate processes; this process is the client, over keep-alive HTTP connections (node:http).',
          `Baseline: the simulator's \`POST /z-image-turbo-834/v1/z-image-turbo-request\` with the body the gateway sends for the same job (core's \`toRequestBody\`). Gateway: \`generateImage(input: {model: Z_IMAGE_TURBO, prompt, imageSize: SQUARE_1_1}) { id status }\` over HTTP POST. ${num(warmUp)} warm-up requests each first; then ${num(options.requests)} sequential requests to each, then ${num(options.requests)} with ${options.concurrency} in flight. Latency is request start → last byte of the answer.`,
        ],
      },
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

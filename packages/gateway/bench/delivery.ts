/**
 * (d) Delivery lag: from Pixazo's `completed_at` (the simulator's end of the job) to the
 * moment a graphql-ws subscriber of `jobUpdated` receives the job COMPLETED with its image
 * URLs, with the gateway polling and with Pixazo's webhooks; status GETs per job beside it.
 * In webhook mode the lag includes the confirming status GET and copying the image into the
 * gateway's image store; in polling mode, the wait for the next scheduled read too.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { countCalls, pollSchedule, safetyNet } from './calls.ts';
import type { BenchReport, Table } from './lib/report.ts';
import { verdict } from './lib/report.ts';
import { type ChildHandle, startChild, wallClockMs } from './lib/rpc.ts';
import { mean, ms, num, percentile, sleep } from './lib/stats.ts';
import type { StartedServer } from './servers/server-process.ts';

type Mode = 'polling' | 'webhooks';

export interface DeliveryOptions {
  /** Turbo jobs per mode. */
  jobs: number;
  /** Simulated time scale (the gateway's schedules follow it); default 1, Pixazo's own pace. */
  timeScale?: number | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface DeliveryRun {
  mode: Mode;
  /** Per job: Pixazo's completed_at to the subscriber's COMPLETED event with images, in ms. */
  lagsMs: number[];
  getsPerJob: number[];
  completed: number;
}

/** The targets: the lag's median per mode, and status GETs per job when polling. */
export const DELIVERY_TARGETS = { webhooksP50Ms: 300, pollingP50Ms: 1500, pollingGetsPerJob: 3 };

const PROMPT = 'a red fox in fresh snow';
/** One job submitted every this many ms (of Pixazo's time). */
const ARRIVAL_INTERVAL_MS = 400;
const SUBSCRIPTION = `subscription ($id: ID!) { jobUpdated(id: $id) { status requestId images { url } } }`;

interface Update {
  status: string;
  requestId: string | null;
  images: { url: string }[];
}

async function generate(gateway: StartedServer): Promise<string> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.key}` },
    body: JSON.stringify({
      query: 'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
      variables: { input: { model: 'Z_IMAGE_TURBO', prompt: PROMPT, imageSize: 'SQUARE_1_1' } },
    }),
  });
  const body = (await response.json()) as { data?: { generateImage: { id: string } } };
  if (!body.data) throw new Error(`gateway answered ${JSON.stringify(body)}`);
  return body.data.generateImage.id;
}

async function measure(mode: Mode, options: DeliveryOptions): Promise<DeliveryRun> {
  const children: ChildHandle[] = [];
  const scale = options.timeScale ?? 1;
  try {
    const sim = await startChild('simulator', 'servers/server-process.ts');
    children.push(sim);
    const simServer = await sim.call<StartedServer>('startSim', { timeScale: scale });
    const gatewayProcess = await startChild('gateway', 'servers/server-process.ts');
    children.push(gatewayProcess);
    const gateway = await gatewayProcess.call<StartedServer>('startGateway', {
      pixazoUrl: simServer.url,
      webhooks: mode === 'webhooks',
      // The gateway's defaults at scale 1; scaled like the calls benchmark otherwise.
      ...(scale === 1
        ? {}
        : { pollSchedule: pollSchedule(scale), safetyNet: safetyNet(scale), durationScale: scale }),
    });
    // One connection per job, as independent clients would (and under the per-socket cap).
    const clients = Array.from({ length: options.jobs }, () =>
      createClient({
        url: gateway.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${gateway.key}` },
        lazy: false,
      }),
    );
    try {
      const deliveries = await Promise.all(
        clients.map(async (client, index) => {
          // A steady arrival, about 7 jobs at Pixazo at once (under PIXAZO_MAX_CONCURRENCY 8),
          // rather than a burst that ends all at once.
          await sleep(index * ARRIVAL_INTERVAL_MS * scale);
          const id = await generate(gateway);
          for await (const result of client.iterate<{ jobUpdated: Update }>({
            query: SUBSCRIPTION,
            variables: { id },
          })) {
            const job = result.data?.jobUpdated;
            if (job?.status === 'COMPLETED' && job.images.length > 0) {
              return { receivedAt: wallClockMs(), requestId: job.requestId as string };
            }
            if (job && job.status !== 'QUEUED' && job.status !== 'PROCESSING') {
              throw new Error(`job ${id} ended ${job.status}`);
            }
          }
          throw new Error(`job ${id}: the subscription ended before COMPLETED`);
        }),
      );
      const requestIds = deliveries.map((d) => d.requestId);
      const { getsPerJob } = await countCalls(sim, requestIds);
      const lagsMs = await Promise.all(
        deliveries.map(
          async (d) =>
            d.receivedAt - (await sim.call<number>('simCompletedAt', { requestId: d.requestId })),
        ),
      );
      return { mode, lagsMs, getsPerJob, completed: deliveries.length };
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

export async function runDelivery(options: DeliveryOptions): Promise<{
  report: BenchReport;
  runs: DeliveryRun[];
}> {
  const log = options.log ?? (() => {});
  const runs: DeliveryRun[] = [];
  for (const mode of ['polling', 'webhooks'] as const) {
    const run = await measure(mode, options);
    runs.push(run);
    log(
      `  ${mode}: p50 ${ms(percentile(run.lagsMs, 50))}, ${num(mean(run.getsPerJob), 1)} GETs/job`,
    );
  }
  const scale = options.timeScale ?? 1;
  const rows = runs.map((run) => {
    const p50 = percentile(run.lagsMs, 50);
    const gets = mean(run.getsPerJob);
    const target =
      run.mode === 'webhooks'
        ? `p50 ≤ ${DELIVERY_TARGETS.webhooksP50Ms} ms`
        : `p50 ≤ ${DELIVERY_TARGETS.pollingP50Ms} ms, ≤ ${DELIVERY_TARGETS.pollingGetsPerJob} GETs / job`;
    const ok =
      run.mode === 'webhooks'
        ? p50 <= DELIVERY_TARGETS.webhooksP50Ms
        : p50 <= DELIVERY_TARGETS.pollingP50Ms && gets <= DELIVERY_TARGETS.pollingGetsPerJob;
    return [
      run.mode,
      `${run.completed}/${options.jobs}`,
      ms(p50),
      ms(percentile(run.lagsMs, 99)),
      ms(Math.max(...run.lagsMs)),
      `${num(gets, 1)} (max ${Math.max(...run.getsPerJob)})`,
      target,
      // Targets are for Pixazo's own pace; at another scale the numbers are only shown.
      scale === 1 ? verdict(ok) : '',
    ];
  });
  const table: Table = {
    title: `Delivery lag, Pixazo's completed_at → subscriber's COMPLETED with image URLs (${options.jobs} Turbo jobs per mode, simulator time scale ${scale})`,
    columns: [
      'tracking',
      'jobs delivered',
      'lag p50',
      'lag p99',
      'lag max',
      'status GETs / job',
      'target',
      'result',
    ],
    rows,
  };
  return {
    runs,
    report: {
      benchmark: 'delivery',
      title: '(d) Delivery lag: polling vs webhooks',
      tables: [table],
      notes: [
        `Targets (issue 15): webhooks p50 ≤ ${DELIVERY_TARGETS.webhooksP50Ms} ms (the confirming GET and the image copy included); polling p50 ≤ ${DELIVERY_TARGETS.pollingP50Ms} ms at ≤ ${DELIVERY_TARGETS.pollingGetsPerJob} status GETs per job.`,
        "Polling reads at 0.9, 1 and 1.15 of the model table's expected duration, no two reads less than 1 s apart: Turbo jobs (2.8 s expected, ending within ±10%) are seen done at the second or third read.",
      ],
      method: [
        `Per mode, a fresh simulator (its own process, time scale ${scale}, no rate limit) and a fresh gateway (its own process; polling: PUBLIC_URL unset; webhooks: PUBLIC_URL = the gateway's own address, so Pixazo calls back), on the gateway's default schedules${scale === 1 ? '' : ' scaled by the same factor'}. The bench process submits ${options.jobs} Turbo jobs with \`generateImage\`, one every ${ARRIVAL_INTERVAL_MS * scale} ms, and follows each with \`jobUpdated\` on a graphql-ws connection of its own.`,
        "Lag per job: the wall clock when the subscriber received the COMPLETED state with its image URLs, less the simulator's `completed_at` of the request (the processes share the machine's clock). Status GETs from the simulator's request log.",
      ],
    },
  };
}

/**
 * (a) Fan-out: N graphql-ws subscribers (one WebSocket each) follow one job; the server
 * publishes a status change; how long until the last subscriber has it, and what an idle
 * subscriber costs the server. Run against the gateway and against the baseline (a bare
 * graphql-yoga + graphql-ws + createPubSub server, servers/baseline.ts) with the same clients.
 */

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { RoundResult } from './clients/ws-client-process.ts';
import type { BenchReport, Table } from './lib/report.ts';
import { verdict } from './lib/report.ts';
import { type ChildHandle, startChild } from './lib/rpc.ts';
import { kb, median, ms, num, percentile, ratio, shares, sleep } from './lib/stats.ts';
import type { MemorySample, Published, StartedServer } from './servers/server-process.ts';

/** floor: bare `ws`, no GraphQL (servers/ws-floor.ts), what one socket per subscriber costs. */
export type ServerKind = 'floor' | 'baseline' | 'gateway';

export interface FanoutOptions {
  sizes: number[];
  /** Client processes the subscribers are spread over. */
  clientProcesses: number;
  /** Status changes published (and measured) per size. */
  rounds: number;
  kinds?: ServerKind[];
  /** Node flags of the server processes only, e.g. --max-semi-space-size (a deployment flag). */
  serverNodeArgs?: string[] | undefined;
  /** Write profiles into this directory: heap (sampled while the subscribers connect) and CPU (the rounds). */
  profileDir?: string | undefined;
  log?: (line: string) => void;
}

/** The selection every subscriber makes: the whole Job, as the dashboard does. */
export const JOB_SELECTION = `
  id status model prompt imageSize numInferenceSteps guidanceScale numImages
  enableSafetyChecker outputFormat acceleration queuePosition error costUsd requestId
  endUserId createdAt updatedAt startedAt completedAt
  images { url width height contentType byteLength }
`;
export const JOB_UPDATED = `subscription ($id: ID!) { jobUpdated(id: $id) { ${JOB_SELECTION} } }`;

/** Targets as ratios to the floor of the same run (issue 16): absolute times move 2× between runs here. */
export const FANOUT_TARGETS = { lastDeliveryVsFloor: 1.1, rssVsFloor: 1.3 };

export interface FanoutRun {
  kind: ServerKind;
  size: number;
  connected: number;
  ready: number;
  setupMs: number;
  memoryIdle: MemorySample;
  memoryLoaded: MemorySample;
  rssPerSubscriber: number;
  heapPerSubscriber: number;
  /** Growth of V8's young generation (committed; empty after GC) during setup, per subscriber. */
  youngGrowthPerSubscriber: number;
  /** The same growth as resident pages: it follows how much is allocated during setup. */
  youngResidentGrowthPerSubscriber: number;
  rounds: {
    p50: number;
    p99: number;
    last: number;
    drained: number;
    received: number;
    valid: number;
    distinctPayloads: number;
    payloadBytes: number;
  }[];
}

async function measure(kind: ServerKind, size: number, options: FanoutOptions): Promise<FanoutRun> {
  const log = options.log ?? (() => {});
  const server = await startChild(`${kind} server`, 'servers/server-process.ts', {
    nodeArgs: ['--expose-gc', ...(options.serverNodeArgs ?? [])],
  });
  const processes = Math.max(1, Math.min(options.clientProcesses, Math.ceil(size / 10)));
  const clients: ChildHandle[] = [];
  try {
    const started =
      kind === 'gateway'
        ? await server.call<StartedServer>('startGateway', { embeddedTimeScale: 1000 })
        : await server.call<StartedServer>(kind === 'floor' ? 'startFloor' : 'startBaseline');
    const { id } = await server.call<{ id: string }>('createJob');
    for (let i = 0; i < processes; i++) {
      clients.push(await startChild(`client ${i}`, 'clients/ws-client-process.ts'));
    }
    const connectionParams = started.key ? { authorization: `Bearer ${started.key}` } : {};
    const subscribeParams = { query: JOB_UPDATED, variables: [{ id }], perVariables: size };

    // Warm-up: a few subscribers and one status change, so both servers have compiled their
    // hot paths and cached the document before anything is measured.
    const warm = clients[0] as ChildHandle;
    await warm.call('connect', { url: started.wsUrl, count: 20, connectionParams });
    await warm.call('subscribe', subscribeParams);
    await warm.call('arm');
    await server.call<Published>('publish', { jobId: id, round: 1 });
    await warm.call('collect', { timeoutMs: 10_000, expectStatus: 'PROCESSING' });
    await warm.call('close');
    await sleep(200);

    const memoryIdle = await server.call<MemorySample>('memory');
    if (options.profileDir) await server.call('heapStart');
    const setupStart = performance.now();
    const counts = shares(size, processes);
    const opened = await Promise.all(
      clients.map((client, i) =>
        client.call<{ connected: number }>(
          'connect',
          { url: started.wsUrl, count: counts[i], connectionParams, concurrency: 32 },
          300_000,
        ),
      ),
    );
    const subscribed = await Promise.all(
      clients.map((client) =>
        client.call<{ ready: number; failed: string[] }>('subscribe', subscribeParams, 300_000),
      ),
    );
    const setupMs = performance.now() - setupStart;
    const connected = opened.reduce((sum, c) => sum + c.connected, 0);
    const ready = subscribed.reduce((sum, s) => sum + s.ready, 0);
    const failed = subscribed.flatMap((s) => s.failed);
    if (failed.length) log(`  ${kind} ${size}: subscribe failures, e.g. ${failed[0]}`);
    await sleep(500);
    const memoryLoaded = await server.call<MemorySample>('memory');
    if (options.profileDir) {
      await mkdir(options.profileDir, { recursive: true });
      const file = path.join(options.profileDir, `fanout-${kind}-${size}.heapprofile`);
      log(
        `    heap profile of the idle subscribers: ${await server.call<string>('heapStop', { file })}`,
      );
    }
    const perSubscriber = (pick: (m: MemorySample) => number) =>
      (pick(memoryLoaded) - pick(memoryIdle)) / size;
    const young = (m: MemorySample) => m.spaces.new_space ?? 0;
    log(
      `  ${kind} ${num(size)}: ${ready} subscribed in ${ms(setupMs, 0)}; per subscriber ` +
        `${kb(perSubscriber((m) => m.rss))} RSS, ${kb(perSubscriber(young))} young generation, ` +
        `${kb(perSubscriber((m) => m.heapTotal))} heap committed, ` +
        `${kb(perSubscriber((m) => m.heapUsed))} heap used, ` +
        `${kb(perSubscriber((m) => m.external))} external (${kb(perSubscriber((m) => m.arrayBuffers))} array buffers)`,
    );
    log(
      `    heap spaces grown: ${Object.entries(memoryLoaded.spaces)
        .map(([name, bytes]) => [name, bytes - (memoryIdle.spaces[name] ?? 0)] as const)
        .filter(([, grown]) => Math.abs(grown) >= 1 << 20)
        .map(([name, grown]) => `${name} ${(grown / 2 ** 20).toFixed(1)} MB`)
        .join(', ')}`,
    );
    const rounds: FanoutRun['rounds'] = [];
    if (options.profileDir) await server.call('profileStart');
    for (let round = 2; round < 2 + options.rounds; round++) {
      await Promise.all(clients.map((client) => client.call('arm')));
      const published = await server.call<Published>('publish', { jobId: id, round });
      const results = await Promise.all(
        clients.map((client) =>
          client.call<RoundResult>('collect', { timeoutMs: 15_000, expectStatus: 'PROCESSING' }),
        ),
      );
      const latencies = results.flatMap((r) =>
        Array.from(r.times, (t) => (Number.isNaN(t) ? Number.NaN : t - published.publishedAt)),
      );
      const received = results.reduce((sum, r) => sum + r.received, 0);
      const lastDelivery = received === size ? percentile(latencies, 100) : Number.NaN;
      const distinct = Math.max(...results.map((r) => r.distinctPayloads));
      rounds.push({
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        last: lastDelivery,
        drained: published.drainedAt - published.publishedAt,
        received,
        valid: results.reduce((sum, r) => sum + r.valid, 0),
        distinctPayloads: distinct,
        payloadBytes: Math.max(...results.map((r) => r.payloadBytes)),
      });
      log(
        `    round ${round - 1}: last ${ms(lastDelivery)}, p50 ${ms(rounds.at(-1)?.p50 ?? Number.NaN)}, ` +
          `server busy ${ms(published.drainedAt - published.publishedAt)}, ${received}/${size} received`,
      );
      await sleep(300);
    }
    if (options.profileDir) {
      await mkdir(options.profileDir, { recursive: true });
      const file = path.join(options.profileDir, `fanout-${kind}-${size}.cpuprofile`);
      log(`    profile: ${await server.call<string>('profileStop', { file })}`);
    }
    return {
      kind,
      size,
      connected,
      ready,
      setupMs,
      memoryIdle,
      memoryLoaded,
      rssPerSubscriber: perSubscriber((m) => m.rss),
      youngGrowthPerSubscriber: perSubscriber(young),
      youngResidentGrowthPerSubscriber: perSubscriber((m) => m.residentSpaces.new_space ?? 0),
      heapPerSubscriber: perSubscriber((m) => m.heapUsed),
      rounds,
    };
  } finally {
    await Promise.all(clients.map((client) => client.call('close', null, 60_000).catch(() => {})));
    await Promise.all(clients.map((client) => client.stop()));
    await server.stop();
  }
}

export async function runFanout(options: FanoutOptions): Promise<{
  report: BenchReport;
  runs: FanoutRun[];
}> {
  const kinds = options.kinds ?? ['floor', 'baseline', 'gateway'];
  const runs: FanoutRun[] = [];
  for (const size of options.sizes) {
    for (const kind of kinds) runs.push(await measure(kind, size, options));
  }

  const tables: Table[] = options.sizes.map((size) => {
    const find = (kind: ServerKind) => runs.find((r) => r.size === size && r.kind === kind);
    const floor = find('floor');
    const base = find('baseline');
    const gw = find('gateway');
    const roundsOf = (run: FanoutRun | undefined, pick: (r: FanoutRun['rounds'][0]) => number) =>
      run?.rounds.map(pick) ?? [];
    const metrics: {
      name: string;
      value: (run: FanoutRun) => number;
      format: (value: number) => string;
      /** Target text and whether the gateway's value meets it (given the floor's). */
      target?: [string, (value: number, floor: number) => boolean];
    }[] = [
      {
        name: 'last delivery after the status change (median of rounds)',
        value: (run) => median(roundsOf(run, (r) => r.last)),
        format: (v) => ms(v),
        target: [
          `≤ ${FANOUT_TARGETS.lastDeliveryVsFloor}× floor`,
          (v, floorValue) => v <= FANOUT_TARGETS.lastDeliveryVsFloor * floorValue,
        ],
      },
      {
        name: 'last delivery, worst round',
        value: (run) => Math.max(...roundsOf(run, (r) => r.last)),
        format: (v) => ms(v),
      },
      {
        name: 'delivery latency p50 (median of rounds)',
        value: (run) => median(roundsOf(run, (r) => r.p50)),
        format: (v) => ms(v),
      },
      {
        name: 'delivery latency p99 (median of rounds)',
        value: (run) => median(roundsOf(run, (r) => r.p99)),
        format: (v) => ms(v),
      },
      {
        name: 'server busy after publish (until its event loop is free)',
        value: (run) => median(roundsOf(run, (r) => r.drained)),
        format: (v) => ms(v),
      },
      {
        name: 'RSS per idle subscriber, (N − 0) / N',
        value: (run) => run.rssPerSubscriber,
        format: kb,
        target: [
          `≤ ${FANOUT_TARGETS.rssVsFloor}× floor`,
          (v, floorValue) => v <= FANOUT_TARGETS.rssVsFloor * floorValue,
        ],
      },
      {
        name: 'V8 young generation grown during setup (committed, empty after GC)',
        value: (run) => run.youngGrowthPerSubscriber,
        format: kb,
      },
      {
        name: 'V8 young generation grown during setup, resident (physical)',
        value: (run) => run.youngResidentGrowthPerSubscriber,
        format: kb,
      },
      {
        name: 'JS heap used per idle subscriber, (N − 0) / N',
        value: (run) => run.heapPerSubscriber,
        format: kb,
      },
      {
        name: 'subscribers connected and subscribed',
        value: (run) => run.ready,
        format: (v) => num(v),
        target: [num(size), (v) => v === size],
      },
      {
        name: 'setup time (connect, authenticate, subscribe)',
        value: (run) => run.setupMs,
        format: (v) => ms(v, 0),
      },
      {
        name: 'deliveries with the new status, all rounds',
        value: (run) => run.rounds.reduce((sum, r) => sum + r.valid, 0),
        format: (v) => num(v),
        target: [num(size * options.rounds), (v) => v === size * options.rounds],
      },
      {
        name: 'distinct payloads per client process (message minus its id)',
        value: (run) => Math.max(...roundsOf(run, (r) => r.distinctPayloads)),
        format: (v) => num(v),
        target: ['1', (v) => v === 1],
      },
      {
        name: 'message size',
        value: (run) => run.rounds[0]?.payloadBytes ?? Number.NaN,
        format: (v) => `${num(v)} B`,
      },
    ];
    const cell = (run: FanoutRun | undefined, metric: (typeof metrics)[0]) =>
      run ? metric.format(metric.value(run)) : 'n/a';
    return {
      title: `${num(size)} subscribers (one WebSocket each) on one job, ${options.rounds} status changes`,
      columns: [
        'metric',
        'floor: bare ws, no GraphQL',
        'baseline: yoga + graphql-ws + createPubSub',
        'gateway',
        'gateway / baseline',
        'gateway / floor',
        'target',
        'result',
      ],
      rows: metrics.map((metric) => [
        metric.name,
        cell(floor, metric),
        cell(base, metric),
        cell(gw, metric),
        gw && base ? ratio(metric.value(gw), metric.value(base)) : '',
        gw && floor ? ratio(metric.value(gw), metric.value(floor)) : '',
        metric.target?.[0] ?? '',
        gw && metric.target
          ? verdict(metric.target[1](metric.value(gw), floor ? metric.value(floor) : Number.NaN))
          : '',
      ]),
    };
  });

  return {
    runs,
    report: {
      benchmark: 'fanout',
      title: '(a) Fan-out: graphql-ws subscribers of one job',
      tables,
      notes: options.serverNodeArgs?.length
        ? [
            `The server processes (floor, baseline and gateway alike) also ran with \`${options.serverNodeArgs.join(' ')}\`.`,
          ]
        : [],
      method: [
        `Each server runs in its own Node process (started with --expose-gc); the subscribers are spread over ${options.clientProcesses} client processes, one WebSocket per subscriber (graphql-transport-ws spoken directly over \`ws\`; a browser tab is one socket). The gateway is \`startGateway\` with the Pixazo simulator embedded (time scale 1000, so the job stays QUEUED) and an API key without limits; the baseline is a bare graphql-yoga + graphql-ws + createPubSub server (bench/servers/baseline.ts) with the same Job type as SDL and no authentication, which executes the subscription once per subscriber per event. The floor (bench/servers/ws-floor.ts) is no GraphQL server at all: bare \`ws\` that serializes the job once and sends it to every socket, i.e. the cost of the WebSocket frames and socket writes alone on this machine.`,
        'Every subscriber sends `jobUpdated(id)` selecting the whole Job (20 fields and images), and counts as ready once it has received the current state. A warm-up of 20 subscribers and one status change runs first.',
        'A status change is a newer PROCESSING version of the job published on the job topic by the server process itself, which notes `performance.timeOrigin + performance.now()` just before publishing; each client notes the same clock when the message arrives. Latency = arrival − publish; "last delivery" is the latest arrival of a round (n/a if any subscriber got nothing within 15 s). "Server busy" is until the server\'s event loop next ran a macrotask after publishing (all sends handed to the kernel).',
        "Memory per idle subscriber: the server's RSS and V8 heap (committed per space, and used) after four forced GCs, with no subscriber (after the warm-up) and with all N connected and idle; the difference divided by N, as asked. RSS also charges the subscribers with V8's young generation, which grows (to 32–96 MB) while thousands of connections are set up and stays committed though empty after GC; its growth is shown in rows of its own, committed and resident (V8's physical space size): the resident part grows with how much a server allocates while the subscribers connect and subscribe, even when the live objects stay the same. JS heap used is the live objects alone.",
        'Both processes share the 2 cores with the client processes, which parse WebSocket frames for N sockets during each round: the last delivery includes that client-side time.',
      ],
    },
  };
}

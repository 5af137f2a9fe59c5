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
import { kb, median, ms, num, percentile, ratio, sleep } from './lib/stats.ts';
import type { MemorySample, Published, StartedServer } from './servers/server-process.ts';

export type ServerKind = 'baseline' | 'gateway';

export interface FanoutOptions {
  sizes: number[];
  /** Client processes the subscribers are spread over. */
  clientProcesses: number;
  /** Status changes published (and measured) per size. */
  rounds: number;
  kinds?: ServerKind[];
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

export const FANOUT_TARGETS = { lastDeliveryMs: 150, bytesPerSubscriber: 16 * 1024 };

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
  /** Between N/2 and N subscribers, per subscriber. */
  marginalRssPerSubscriber: number;
  marginalHeapPerSubscriber: number;
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

function shares(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}

async function measure(kind: ServerKind, size: number, options: FanoutOptions): Promise<FanoutRun> {
  const log = options.log ?? (() => {});
  const server = await startChild(`${kind} server`, 'servers/server-process.ts', {
    nodeArgs: ['--expose-gc'],
  });
  const processes = Math.max(1, Math.min(options.clientProcesses, Math.ceil(size / 10)));
  const clients: ChildHandle[] = [];
  try {
    const started =
      kind === 'gateway'
        ? await server.call<StartedServer>('startGateway', { embeddedTimeScale: 1000 })
        : await server.call<StartedServer>('startBaseline');
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

    // Connected in two halves, memory measured after each: (N − 0) / N as specified, and the
    // marginal (N − N/2) / (N/2), which leaves out one-off growth such as V8's young generation.
    const memoryIdle = await server.call<MemorySample>('memory');
    if (options.profileDir) await server.call('heapStart');
    let setupMs = 0;
    let ready = 0;
    let connected = 0;
    let memoryHalf = memoryIdle;
    const halves = [Math.floor(size / 2), size - Math.floor(size / 2)];
    for (const [half, count] of halves.entries()) {
      const setupStart = performance.now();
      const counts = shares(count, processes);
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
      setupMs += performance.now() - setupStart;
      connected = opened.reduce((sum, c) => sum + c.connected, 0);
      ready = subscribed.reduce((sum, s) => sum + s.ready, 0);
      const failed = subscribed.flatMap((s) => s.failed);
      if (failed.length) log(`  ${kind} ${size}: subscribe failures, e.g. ${failed[0]}`);
      await sleep(500);
      if (half === 0) memoryHalf = await server.call<MemorySample>('memory');
    }
    const memoryLoaded = await server.call<MemorySample>('memory');
    if (options.profileDir) {
      await mkdir(options.profileDir, { recursive: true });
      const file = path.join(options.profileDir, `fanout-${kind}-${size}.heapprofile`);
      log(
        `    heap profile of the idle subscribers: ${await server.call<string>('heapStop', { file })}`,
      );
    }
    const secondHalf = halves[1] as number;
    const marginalRss = (memoryLoaded.rss - memoryHalf.rss) / secondHalf;
    log(
      `  ${kind} ${num(size)}: ${ready} subscribed in ${ms(setupMs, 0)}; per subscriber ` +
        `${kb((memoryLoaded.rss - memoryIdle.rss) / size)} RSS (marginal ${kb(marginalRss)}), ` +
        `${kb((memoryLoaded.heapTotal - memoryIdle.heapTotal) / size)} heap committed, ` +
        `${kb((memoryLoaded.heapUsed - memoryIdle.heapUsed) / size)} heap used`,
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
      rssPerSubscriber: (memoryLoaded.rss - memoryIdle.rss) / size,
      marginalRssPerSubscriber: marginalRss,
      marginalHeapPerSubscriber: (memoryLoaded.heapUsed - memoryHalf.heapUsed) / secondHalf,
      heapPerSubscriber: (memoryLoaded.heapUsed - memoryIdle.heapUsed) / size,
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
  const kinds = options.kinds ?? ['baseline', 'gateway'];
  const runs: FanoutRun[] = [];
  for (const size of options.sizes) {
    for (const kind of kinds) runs.push(await measure(kind, size, options));
  }

  const summary = (run: FanoutRun | undefined) => ({
    last: median(run?.rounds.map((r) => r.last) ?? []),
    worstLast: Math.max(...(run?.rounds.map((r) => r.last) ?? [Number.NaN])),
    p50: median(run?.rounds.map((r) => r.p50) ?? []),
    p99: median(run?.rounds.map((r) => r.p99) ?? []),
    drained: median(run?.rounds.map((r) => r.drained) ?? []),
  });
  const tables: Table[] = options.sizes.map((size) => {
    const base = runs.find((r) => r.size === size && r.kind === 'baseline');
    const gw = runs.find((r) => r.size === size && r.kind === 'gateway');
    const b = summary(base);
    const g = summary(gw);
    const deliveredAll = (run: FanoutRun | undefined) =>
      run ? run.rounds.every((r) => r.received === size && r.valid === size) : false;
    const row = (
      metric: string,
      baseline: string,
      gateway: string,
      r: string,
      target: string,
      result: string,
    ) => [metric, baseline, gateway, r, target, result];
    return {
      title: `${num(size)} subscribers (one WebSocket each) on one job, ${options.rounds} status changes`,
      columns: ['metric', 'baseline', 'gateway', 'gateway / baseline', 'target', 'result'],
      rows: [
        row(
          'last delivery after the status change (median of rounds)',
          ms(b.last),
          ms(g.last),
          ratio(g.last, b.last),
          `≤ ${FANOUT_TARGETS.lastDeliveryMs} ms`,
          gw ? verdict(g.last <= FANOUT_TARGETS.lastDeliveryMs) : '',
        ),
        row(
          'last delivery, worst round',
          ms(b.worstLast),
          ms(g.worstLast),
          ratio(g.worstLast, b.worstLast),
          `≤ ${FANOUT_TARGETS.lastDeliveryMs} ms`,
          gw ? verdict(g.worstLast <= FANOUT_TARGETS.lastDeliveryMs) : '',
        ),
        row('delivery latency p50', ms(b.p50), ms(g.p50), ratio(g.p50, b.p50), '', ''),
        row('delivery latency p99', ms(b.p99), ms(g.p99), ratio(g.p99, b.p99), '', ''),
        row(
          'server busy after publish (event loop free again)',
          ms(b.drained),
          ms(g.drained),
          ratio(g.drained, b.drained),
          '',
          '',
        ),
        row(
          'RSS per idle subscriber, (N − 0) / N',
          kb(base?.rssPerSubscriber ?? Number.NaN),
          kb(gw?.rssPerSubscriber ?? Number.NaN),
          ratio(gw?.rssPerSubscriber ?? Number.NaN, base?.rssPerSubscriber ?? Number.NaN),
          `≤ ${FANOUT_TARGETS.bytesPerSubscriber / 1024} KB`,
          gw ? verdict(gw.rssPerSubscriber <= FANOUT_TARGETS.bytesPerSubscriber) : '',
        ),
        row(
          'RSS per idle subscriber, marginal: (N − N/2) / (N/2)',
          kb(base?.marginalRssPerSubscriber ?? Number.NaN),
          kb(gw?.marginalRssPerSubscriber ?? Number.NaN),
          ratio(
            gw?.marginalRssPerSubscriber ?? Number.NaN,
            base?.marginalRssPerSubscriber ?? Number.NaN,
          ),
          `≤ ${FANOUT_TARGETS.bytesPerSubscriber / 1024} KB`,
          gw ? verdict(gw.marginalRssPerSubscriber <= FANOUT_TARGETS.bytesPerSubscriber) : '',
        ),
        row(
          'JS heap used per idle subscriber, (N − 0) / N',
          kb(base?.heapPerSubscriber ?? Number.NaN),
          kb(gw?.heapPerSubscriber ?? Number.NaN),
          ratio(gw?.heapPerSubscriber ?? Number.NaN, base?.heapPerSubscriber ?? Number.NaN),
          '',
          '',
        ),
        row(
          'JS heap used per idle subscriber, marginal',
          kb(base?.marginalHeapPerSubscriber ?? Number.NaN),
          kb(gw?.marginalHeapPerSubscriber ?? Number.NaN),
          ratio(
            gw?.marginalHeapPerSubscriber ?? Number.NaN,
            base?.marginalHeapPerSubscriber ?? Number.NaN,
          ),
          '',
          '',
        ),
        row(
          'subscribers connected and subscribed (setup time)',
          base ? `${num(base.ready)} (${ms(base.setupMs, 0)})` : 'n/a',
          gw ? `${num(gw.ready)} (${ms(gw.setupMs, 0)})` : 'n/a',
          '',
          `${num(size)}`,
          gw ? verdict(gw.ready === size) : '',
        ),
        row(
          'every delivery arrived, with the new status',
          base ? String(deliveredAll(base)) : 'n/a',
          gw ? String(deliveredAll(gw)) : 'n/a',
          '',
          'true',
          gw ? verdict(deliveredAll(gw)) : '',
        ),
        row(
          'distinct payloads (message minus its id) per client process; message size',
          base
            ? `${Math.max(...base.rounds.map((r) => r.distinctPayloads))} (${base.rounds[0]?.payloadBytes} B)`
            : 'n/a',
          gw
            ? `${Math.max(...gw.rounds.map((r) => r.distinctPayloads))} (${gw.rounds[0]?.payloadBytes} B)`
            : 'n/a',
          '',
          '1',
          '',
        ),
      ],
    };
  });

  return {
    runs,
    report: {
      benchmark: 'fanout',
      title: '(a) Fan-out: graphql-ws subscribers of one job',
      tables,
      notes: [],
      method: [
        `Each server runs in its own Node process (started with --expose-gc); the subscribers are spread over ${options.clientProcesses} client processes, one WebSocket per subscriber (graphql-transport-ws spoken directly over \`ws\`; a browser tab is one socket). The gateway is \`startGateway\` with the Pixazo simulator embedded (time scale 1000, so the job stays QUEUED) and an API key without limits; the baseline is a bare graphql-yoga + graphql-ws + createPubSub server (bench/servers/baseline.ts) with the same Job type as SDL and no authentication.`,
        'Every subscriber sends `jobUpdated(id)` selecting the whole Job (20 fields and images), and counts as ready once it has received the current state. A warm-up of 20 subscribers and one status change runs first.',
        'A status change is a newer PROCESSING version of the job published on the job topic by the server process itself, which notes `performance.timeOrigin + performance.now()` just before publishing; each client notes the same clock when the message arrives. Latency = arrival − publish; "last delivery" is the latest arrival of a round (n/a if any subscriber got nothing within 15 s). "Server busy" is until the server\'s event loop next ran a macrotask after publishing (all sends handed to the kernel).',
        "Memory per idle subscriber: the server's RSS and heapUsed after four forced GCs, with none (after the warm-up), N/2 and N subscribers connected and idle. (N − 0) / N is the method asked for; it also charges the subscribers with one-off growth, chiefly V8's young generation, which grows by tens of MB while thousands of connections are set up and stays resident. The marginal figure, (N − N/2) / (N/2), leaves that out. Both are judged on RSS, which includes sockets and buffers outside the JS heap.",
        'Both processes share the 2 cores with the client processes, which parse WebSocket frames for N sockets during each round: the last delivery includes that client-side time.',
      ],
    },
  };
}

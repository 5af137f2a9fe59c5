/**
 * HTTP load for the submit-style benchmarks: POSTs of one body to one or several targets over
 * keep-alive connections (node:http), one after another or with requests in flight at once,
 * timing each from its start to the last byte of its answer.
 */
import { Agent, request } from 'node:http';
import { wallClockMs } from './rpc.ts';

export interface Target {
  name: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** Whether the answer is a success. */
  accepted(status: number, body: string): boolean;
}

export interface Phase {
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

export function throughput(phase: Phase): number {
  return phase.latencies.length / (phase.elapsedMs / 1000);
}

/**
 * `count` requests, `inFlight` at a time; with several targets the i-th request goes to
 * target i mod n (a round-robin load balancer).
 */
export async function runPhase(
  target: Target | Target[],
  count: number,
  inFlight: number,
): Promise<Phase> {
  const targets = Array.isArray(target) ? target : [target];
  // FIFO: every kept-alive socket is reused in turn, so none sits idle until the server's
  // keep-alive timeout closes it just as a request is written on it (ECONNRESET under load).
  const agents = targets.map(
    () => new Agent({ keepAlive: true, maxSockets: inFlight, scheduling: 'fifo' }),
  );
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const index = next++ % targets.length;
      const to = targets[index] as Target;
      const t0 = performance.now();
      sentAt.push(wallClockMs());
      const { status, body } = await post(agents[index] as Agent, to).catch((error: Error) => {
        throw new Error(`${to.name} at ${to.url}: ${error.message}`, { cause: error });
      });
      latencies.push(performance.now() - t0);
      if (!to.accepted(status, body)) {
        failures++;
        if (failures === 1) throw new Error(`${to.name} answered ${status} ${body}`);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedMs = performance.now() - started;
  for (const agent of agents) agent.destroy();
  return { latencies, sentAt, elapsedMs, failures };
}

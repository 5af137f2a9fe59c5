/**
 * `pnpm bench`: the gateway's benchmarks, each against its baseline in the same run.
 *
 *   pnpm bench                                   # everything (about 10 minutes)
 *   pnpm bench -- --only fanout --sizes 1000     # one benchmark, smaller
 *   pnpm bench -- --only submit,calls --no-save  # print only
 *   pnpm bench -- --only scaleout                # needs PostgreSQL and Redis
 *
 * Prints a table per benchmark and writes it to bench/results/<date>-<benchmark>.md at the
 * repository root, plus bench/results/latest.md. See docs/operations.md, "Benchmarks".
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCalls } from './calls.ts';
import { runDelivery } from './delivery.ts';
import { runFanout } from './fanout.ts';
import { type BenchReport, renderReport, saveReport } from './lib/report.ts';
import { runScaleout } from './scaleout.ts';
import { runSubmit } from './submit.ts';

const PROFILE_DIR = fileURLToPath(new URL('profiles/', import.meta.url));
const BENCHMARKS = ['fanout', 'submit', 'calls', 'scaleout', 'delivery'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const USAGE = `usage: pnpm bench [-- options]
  --only <list>          fanout,submit,calls,scaleout,delivery (default: all)
  --sizes <list>         fan-out subscriber counts (default 1000,5000,10000)
  --servers <list>       fan-out servers (default floor,baseline,gateway)
  --clients <n>          fan-out client processes (default 4)
  --rounds <n>           fan-out and scale-out status changes measured per size (default 10)
  --submits <n>          submit and scale-out: requests per phase and target (default 400)
  --concurrency <n>      submit and scale-out: requests in flight in the concurrent phase (default 16)
  --jobs <n>             calls and scale-out: jobs per configuration (default 10)
  --subscribers <n>      scale-out: subscribers spread over the instances (default 3000)
  --watchers <list>      calls benchmark: watchers per job (default 1,100)
  --deliveries <n>       delivery benchmark: Turbo jobs per mode (default 40)
  --server-node-args=<flags>  fan-out: Node flags of the server processes only, space-separated,
                         e.g. --server-node-args=--max-semi-space-size=4 (a deployment flag;
                         see docs/operations.md)
  --cpu-prof             profile the servers (fan-out rounds, gateway submits) into packages/gateway/bench/profiles/
  --no-save              print only; write nothing under bench/results/
  --help`;

class UsageError extends Error {}

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const integers = (value: string, flag: string) =>
  list(value).map((v) => {
    const n = Number(v.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${flag} takes positive integers (got "${v}")`);
    return n;
  });

async function main(): Promise<number> {
  const argv = process.argv.slice(2).filter((arg) => arg !== '--');
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string' },
      sizes: { type: 'string', default: '1000,5000,10000' },
      servers: { type: 'string', default: 'floor,baseline,gateway' },
      clients: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '10' },
      submits: { type: 'string', default: '400' },
      concurrency: { type: 'string', default: '16' },
      jobs: { type: 'string', default: '10' },
      watchers: { type: 'string', default: '1,100' },
      subscribers: { type: 'string', default: '3000' },
      deliveries: { type: 'string', default: '40' },
      'server-node-args': { type: 'string', default: '' },
      'cpu-prof': { type: 'boolean', default: false },
      'no-save': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only ? list(values.only) : [...BENCHMARKS];
  const unknown = only.filter((name) => !BENCHMARKS.includes(name as Benchmark));
  if (unknown.length) throw new UsageError(`--only: unknown benchmark ${unknown.join(', ')}`);
  const [clients] = integers(values.clients, '--clients');
  const [rounds] = integers(values.rounds, '--rounds');
  const [submits] = integers(values.submits, '--submits');
  const [concurrency] = integers(values.concurrency, '--concurrency');
  const [jobs] = integers(values.jobs, '--jobs');
  const shownArgs = argv.join(' ');
  const log = (line: string) => console.error(line);

  const reports: BenchReport[] = [];
  const started = performance.now();
  for (const name of BENCHMARKS.filter((b) => only.includes(b))) {
    log(`▶ ${name}`);
    let report: BenchReport;
    if (name === 'fanout') {
      ({ report } = await runFanout({
        sizes: integers(values.sizes, '--sizes'),
        clientProcesses: clients as number,
        kinds: list(values.servers).map((kind) => {
          if (kind !== 'floor' && kind !== 'baseline' && kind !== 'gateway') {
            throw new UsageError(`--servers: floor, baseline or gateway (got "${kind}")`);
          }
          return kind;
        }),
        rounds: rounds as number,
        serverNodeArgs: values['server-node-args'].split(' ').filter(Boolean),
        profileDir: values['cpu-prof'] ? PROFILE_DIR : undefined,
        log,
      }));
    } else if (name === 'submit') {
      ({ report } = await runSubmit({
        requests: submits as number,
        concurrency: concurrency as number,
        profileDir: values['cpu-prof'] ? PROFILE_DIR : undefined,
        log,
      }));
    } else if (name === 'scaleout') {
      ({ report } = await runScaleout({
        submits: submits as number,
        concurrency: concurrency as number,
        subscribers: integers(values.subscribers, '--subscribers')[0] as number,
        rounds: rounds as number,
        jobs: jobs as number,
        log,
      }));
    } else if (name === 'delivery') {
      const [deliveries] = integers(values.deliveries, '--deliveries');
      ({ report } = await runDelivery({ jobs: deliveries as number, log }));
    } else {
      ({ report } = await runCalls({
        jobs: jobs as number,
        watchers: integers(values.watchers, '--watchers'),
        log,
      }));
    }
    reports.push(report);
    const rendered = renderReport(report, shownArgs);
    console.log(`\n${rendered}`);
    if (!values['no-save']) log(`  written to ${await saveReport(rendered, report.benchmark)}`);
  }
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage =
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(usage ? `${(error as Error).message}\n${USAGE}` : error);
    process.exit(usage ? 2 : 1);
  },
);

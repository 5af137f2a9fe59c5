#!/usr/bin/env node
/**
 * zimage: generate images with Pixazo's Z-Image models from a terminal. Only argument parsing
 * and printing live here; everything else is PixazoClient. Status lines go to stderr and file
 * paths to stdout, so `zimage generate … | xargs open` works. Every failure is one line.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AbortError, type GenerateInput, MODELS, PixazoClient, ValidationError } from './index.ts';

const HELP = `Usage:
  zimage generate "<prompt>" [options]   generate images and save them
  zimage status <request-id>             print a request's status as JSON
  zimage --help                          show this help

Options of generate:
  --model turbo|base        model (default turbo)
  --size SIZE               square_1_1, portrait_3_4, landscape_4_3 (default),
                            portrait_9_16, landscape_16_9
  --steps N                 inference steps (turbo 1-50, default 8; base 10-100, default 28)
  --images N                images per request, 1-4 (default 1)
  --format png|jpeg|webp    output format (default png)
  --guidance X              guidance scale, base only, 1-20 (default 4)
  --acceleration MODE       turbo: none; base: regular (default), fast, ultra_fast
  --no-safety               disable Pixazo's safety checker
  --out DIR                 where to save the images (default: current directory)

Environment:
  PIXAZO_API_KEY            Pixazo subscription key (required)
  PIXAZO_BASE_URL           Pixazo base URL (default https://gateway.pixazo.ai)

Status lines go to stderr; the saved files' paths go to stdout, one per line.`;

/** A mistake in how zimage was called: exit code 2. */
class UsageError extends Error {}

/** CLI spellings of the client's fields, so validation errors name what the user typed. */
const FLAGS: Readonly<Record<string, string>> = {
  model: '--model',
  imageSize: '--size',
  numInferenceSteps: '--steps',
  numImages: '--images',
  outputFormat: '--format',
  guidanceScale: '--guidance',
  acceleration: '--acceleration',
  enableSafetyChecker: '--no-safety',
  prompt: 'the prompt',
};

const FILE_EXTENSIONS = { png: 'png', jpeg: 'jpg', webp: 'webp' } as const;

function clientFromEnv(env: NodeJS.ProcessEnv): PixazoClient {
  const apiKey = env.PIXAZO_API_KEY?.trim();
  if (!apiKey)
    throw new UsageError('PIXAZO_API_KEY is not set: export your Pixazo subscription key');
  try {
    return new PixazoClient({ apiKey, baseUrl: env.PIXAZO_BASE_URL || undefined });
  } catch (error) {
    if (error instanceof ValidationError) {
      const variable = error.field === 'apiKey' ? 'PIXAZO_API_KEY' : 'PIXAZO_BASE_URL';
      throw new UsageError(`${variable}: ${error.message}`);
    }
    throw error;
  }
}

function number(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

async function generate(
  args: string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      size: { type: 'string' },
      steps: { type: 'string' },
      images: { type: 'string' },
      format: { type: 'string' },
      guidance: { type: 'string' },
      acceleration: { type: 'string' },
      'no-safety': { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const prompt = positionals.join(' ');
  if (!prompt.trim()) throw new UsageError('generate needs a prompt: zimage generate "<prompt>"');
  const input = {
    model: values.model ?? 'turbo',
    prompt,
    imageSize: values.size ?? 'landscape_4_3',
    numInferenceSteps: number(values.steps),
    numImages: number(values.images),
    outputFormat: values.format,
    guidanceScale: number(values.guidance),
    acceleration: values.acceleration,
    enableSafetyChecker: values['no-safety'] ? false : undefined,
  } as GenerateInput; // Checked by the client, whose errors name the flag (see FLAGS).
  const client = clientFromEnv(env);

  const startedAt = performance.now();
  const report = (text: string) => {
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    process.stderr.write(`[${seconds.padStart(5)}s] ${text}\n`);
  };
  const result = await client.generate(input, {
    download: true,
    signal,
    // Someone is watching: poll from 1 s on (backing off to the usual cap) to show progress.
    pollSchedule: { firstDelayMs: 1000 },
    onSubmitted: (s) =>
      report(
        `QUEUED ${s.requestId} (${MODELS[s.model].name}, ${s.params.numImages} image(s), $${s.cost.usd})`,
      ),
    onStatus: (s) => report(s.status),
  });

  const outDir = resolve(values.out ?? '.');
  await mkdir(outDir, { recursive: true });
  for (const [index, image] of (result.images ?? []).entries()) {
    const path = join(
      outDir,
      `${result.submission.requestId}-${index + 1}.${FILE_EXTENSIONS[image.format]}`,
    );
    await writeFile(path, image.bytes);
    process.stdout.write(`${path}\n`);
  }
}

async function status(args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [requestId, ...extra] = positionals;
  if (!requestId || extra.length)
    throw new UsageError('status needs one request id: zimage status <request-id>');
  const result = await clientFromEnv(env).getStatus(requestId, { signal });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** One line, naming CLI flags instead of the client's field names. */
function oneLineMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const flag = error instanceof ValidationError ? FLAGS[error.field] : undefined;
  const named =
    flag && error instanceof ValidationError && message.startsWith(error.field)
      ? `${flag}${message.slice(error.field.length)}`
      : message;
  return named.replace(/\s+/g, ' ').trim();
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const [command, ...rest] = argv;
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (command === 'generate') await generate(rest, env, controller.signal);
    else if (command === 'status') await status(rest, env, controller.signal);
    else if (command === undefined) throw new UsageError('missing command (try zimage --help)');
    else throw new UsageError(`unknown command "${command}" (try zimage --help)`);
    return 0;
  } catch (error) {
    process.stderr.write(`zimage: ${oneLineMessage(error)}\n`);
    if (error instanceof AbortError) return 130;
    const usage =
      error instanceof UsageError ||
      error instanceof ValidationError ||
      (error instanceof TypeError &&
        'code' in error &&
        String(error.code).startsWith('ERR_PARSE_ARGS'));
    return usage ? 2 : 1;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}

/**
 * The bot's buttons, forms and per-user commands end to end: the real discord.js client
 * against the fake Discord REST server, the real gateway on the Pixazo simulator.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '@zimage/client';
import { startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { InteractionResponseType, MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { endUserIdOf } from '../src/end-users.ts';
import { BotHarness } from './helpers/bot-harness.ts';
import { BOT_KEY } from './helpers/bot-key.ts';
import type { DiscordRequest } from './helpers/fake-discord.ts';
import { BASE } from './helpers/fixtures.ts';
import {
  ALICE,
  APP_ID,
  autocomplete,
  BOB,
  buttonClick,
  type InteractionIds,
  modalSubmit,
  slashCommand,
} from './helpers/interactions.ts';

/** The test gateway's PIXAZO_MAX_CONCURRENCY: the default, 8 (docs/operations.md). */
const PIXAZO_CAP = 8;

let gateway: TestGateway;
let apiKey: string;
const harnesses: BotHarness[] = [];

beforeAll(async () => {
  gateway = await startTestGateway();
  apiKey = await gateway.key(BOT_KEY);
});
afterAll(async () => {
  await gateway.close();
});
afterEach(async () => {
  gateway.releaseJobs();
  for (const harness of harnesses.splice(0)) await harness.close();
});

async function startBot(dataDir?: string): Promise<BotHarness> {
  const harness = await BotHarness.start({
    gatewayUrl: gateway.url,
    apiKey,
    editIntervalMs: 200,
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  harnesses.push(harness);
  return harness;
}

const callbackOf =
  ({ id, token }: InteractionIds) =>
  (r: DiscordRequest) =>
    r.method === 'POST' && r.path === `/interactions/${id}/${token}/callback`;
const isEditOf =
  ({ token }: InteractionIds) =>
  (r: DiscordRequest) =>
    r.method === 'PATCH' &&
    r.path === `/webhooks/${APP_ID}/${token}/messages/@original` &&
    r.status === 200;
const isResult = (r: DiscordRequest) => r.files.length > 0 || r.json?.embeds?.length > 0;
const buttonsOf = (r: DiscordRequest): { custom_id: string; label: string; disabled?: boolean }[] =>
  (r.json?.components ?? []).flatMap((row: { components: unknown[] }) => row.components);
const buttonOf = (r: DiscordRequest, action: string) => {
  const found = buttonsOf(r).find((b) => b.custom_id.split(':')[1] === action);
  if (!found) throw new Error(`no ${action} button in ${JSON.stringify(r.json)}`);
  return found.custom_id;
};
/** The job id in a progress message's small print, or a result's footer. */
const jobIdOf = (r: DiscordRequest): string => {
  const text: string = r.json.embeds?.[0]?.footer?.text ?? r.json.content;
  const id = /job_\w+/.exec(text)?.[0];
  if (!id) throw new Error(`no job id in ${text}`);
  return id;
};
const messageIdOf = (r: DiscordRequest) => (r.response as { id: string }).id;
const simPrompts = () => gateway.sim.jobs().map((job) => job.request.prompt);

async function imagineToResult(harness: BotHarness, options: Record<string, string | number>) {
  const ids = harness.inject(slashCommand('imagine', options));
  const result = await harness.discord.waitFor(
    (r) => isEditOf(ids)(r) && isResult(r),
    'the result',
  );
  return { ids, result };
}

/** Every job the bot's key made for `userId`, newest first. */
async function jobsOf(harness: BotHarness, userId: string): Promise<Job[]> {
  return (await harness.gateway.forEndUser(endUserIdOf(userId)).jobs({ first: 100 })).nodes;
}

describe('Cancel', () => {
  it('while the job waits in the gateway’s queue: cancelled, never sent, nothing charged', async () => {
    const harness = await startBot();
    // Fill Pixazo's slots with jobs that stay there, so the next job waits in our queue.
    gateway.holdJobs();
    const filler = harness.gateway.forEndUser('filler');
    const fillers = await Promise.all(
      Array.from({ length: PIXAZO_CAP }, (_, i) =>
        filler.generate({ model: 'Z_IMAGE_TURBO', prompt: `filler ${i}`, imageSize: 'SQUARE_1_1' }),
      ),
    );
    await Promise.all(
      fillers.map(async ({ id }) => {
        for await (const job of filler.watch(id)) if (job.requestId) break;
      }),
    );

    const ids = harness.inject(slashCommand('imagine', { prompt: 'cancel me while I wait' }));
    const queued = await harness.discord.waitFor(
      (r) => isEditOf(ids)(r) && buttonsOf(r).some((b) => b.custom_id.startsWith('zimage:cancel:')),
      'the queued message with its Cancel button',
    );
    expect(queued.json.content).toMatch(/⏳ Queued · position 1 /);
    expect(buttonsOf(queued).map((b) => b.label)).toEqual(['Cancel (free)']);

    const click = harness.inject(
      buttonClick(buttonOf(queued, 'cancel'), { id: messageIdOf(queued) }),
    );
    expect((await harness.discord.waitFor(callbackOf(click))).json.data.flags).toBe(
      MessageFlags.Ephemeral,
    );
    const answer = await harness.discord.waitFor(isEditOf(click), 'the cancel answer');
    expect(answer.json.content).toBe(
      'Cancelled. It had not been sent yet, so you were not charged.',
    );
    const final = await harness.discord.waitFor(
      (r) => isEditOf(ids)(r) && /Cancelled/.test(r.json.content),
      'the cancelled message',
    );
    expect(final.json.content).toContain('🚫 Cancelled before it was sent. You were not charged.');
    expect(buttonsOf(final)).toEqual([]);

    const job = await harness.gateway.job(jobIdOf(queued));
    expect(job).toMatchObject({ status: 'CANCELLED', costUsd: 0, requestId: null });
    expect(simPrompts()).not.toContain('cancel me while I wait');
    const usage = await harness.gateway.forEndUser(endUserIdOf(ALICE)).viewer();
    expect(usage.usage.spentTodayUsd).toBe(0);

    // The fillers leave Pixazo's slots before the next test holds jobs again.
    gateway.releaseJobs();
    await Promise.all(fillers.map(({ id }) => filler.waitFor(id)));
  });

  it('after the job was sent: not cancelled (it is paid), and its images still come', async () => {
    const harness = await startBot();
    gateway.holdJobs();
    const ids = harness.inject(slashCommand('imagine', { prompt: 'already on its way' }));
    const first = await harness.discord.waitFor(isEditOf(ids), 'the first edit');
    const jobId = jobIdOf(first);
    const alice = harness.gateway.forEndUser(endUserIdOf(ALICE));
    for await (const job of alice.watch(jobId)) if (job.requestId) break;

    // A Cancel button clicked late (it was drawn while the job still waited).
    const click = harness.inject(
      buttonClick(`zimage:cancel:${jobId}:${ALICE}`, { id: messageIdOf(first) }),
    );
    const answer = await harness.discord.waitFor(isEditOf(click), 'the cancel answer');
    expect(answer.json.content).toBe(
      'Already sent to the image service: it is paid, so it will finish and you will get the images.',
    );

    gateway.releaseJobs();
    const result = await harness.discord.waitFor(
      (r) => isEditOf(ids)(r) && isResult(r),
      'the result',
    );
    expect(result.files).toHaveLength(1);
    expect(await alice.job(jobId)).toMatchObject({ status: 'COMPLETED' });
  });
});

describe('Edit & re-roll', () => {
  it('opens a form filled in with the request, and submits the edited one', async () => {
    const harness = await startBot();
    const { result } = await imagineToResult(harness, { prompt: 'a red fox in snow', steps: 6 });
    const click = harness.inject(
      buttonClick(buttonOf(result, 'edit'), { id: messageIdOf(result) }),
    );
    const modal = await harness.discord.waitFor(callbackOf(click), 'the form');
    expect(modal.json.type).toBe(InteractionResponseType.Modal);
    const fields = Object.fromEntries(
      modal.json.data.components.map(
        (label: {
          component: {
            custom_id: string;
            value?: string;
            options?: { value: string; default: boolean }[];
          };
        }) => [
          label.component.custom_id,
          label.component.value ?? label.component.options?.find((o) => o.default)?.value,
        ],
      ),
    );
    expect(fields).toEqual({
      prompt: 'a red fox in snow',
      model: 'Z_IMAGE_TURBO',
      size: 'SQUARE_1_1',
      steps: '6',
      images: '1',
    });

    const submit = harness.inject(
      modalSubmit(modal.json.data.custom_id, [
        { customId: 'prompt', value: 'a blue fox in snow' },
        { customId: 'model', values: ['Z_IMAGE_BASE'] },
        { customId: 'size', values: ['LANDSCAPE_16_9'] },
        { customId: 'steps', value: '' },
        { customId: 'images', value: '2' },
      ]),
    );
    const edited = await harness.discord.waitFor(
      (r) => isEditOf(submit)(r) && isResult(r),
      'the result',
    );
    expect(edited.json.embeds[0].description).toBe('a blue fox in snow');
    expect(edited.files).toHaveLength(2);
    // Pixazo received the edited request: Base's own steps, the new size and count.
    const sent = gateway.sim.jobs().find((job) => job.request.prompt === 'a blue fox in snow');
    expect(sent?.request).toMatchObject({
      num_inference_steps: BASE.defaultSteps,
      num_images: 2,
    });
    expect(await harness.gateway.job(jobIdOf(edited))).toMatchObject({
      model: 'Z_IMAGE_BASE',
      imageSize: 'LANDSCAPE_16_9',
    });
  });

  it('is the owner’s alone', async () => {
    const harness = await startBot();
    const { result } = await imagineToResult(harness, { prompt: 'mine to edit' });
    const byBob = harness.inject(
      buttonClick(buttonOf(result, 'edit'), { id: messageIdOf(result) }, { user: BOB }),
    );
    expect((await harness.discord.waitFor(callbackOf(byBob))).json.data).toMatchObject({
      content: 'Only the person who made this image can use that button.',
      flags: MessageFlags.Ephemeral,
    });
  });
});

describe('Retry', () => {
  it('re-submits the same request of a failed job', async () => {
    const harness = await startBot();
    const prompt = 'a cat [sim:fail]';
    const ids = harness.inject(slashCommand('imagine', { prompt, steps: 5 }));
    const failed = await harness.discord.waitFor(
      (r) => isEditOf(ids)(r) && /could not be made/.test(r.json.content),
      'the failure',
    );
    expect(buttonsOf(failed).map((b) => b.label)).toEqual(['Retry', 'Edit & re-roll']);

    const retry = harness.inject(
      buttonClick(buttonOf(failed, 'reroll'), { id: messageIdOf(failed) }),
    );
    const again = await harness.discord.waitFor(
      (r) => isEditOf(retry)(r) && /could not be made/.test(r.json.content),
      'the retried job’s end',
    );
    const [retried, original] = await jobsOf(harness, ALICE);
    expect(retried?.id).toBe(jobIdOf(again));
    expect(original?.id).toBe(jobIdOf(failed));
    expect(retried).toMatchObject({ prompt, numInferenceSteps: 5, status: 'FAILED' });
  });
});

describe('/history and /job', () => {
  it('/history shows the user’s own jobs, privately, a page at a time', async () => {
    const harness = await startBot();
    const bob = harness.gateway.forEndUser(endUserIdOf(BOB));
    for (let i = 1; i <= 7; i++) {
      await bob.generate({
        model: 'Z_IMAGE_TURBO',
        prompt: `history ${i}`,
        imageSize: 'SQUARE_1_1',
      });
    }
    const ids = harness.inject(slashCommand('history', {}, { user: BOB }));
    expect((await harness.discord.waitFor(callbackOf(ids))).json.data.flags).toBe(
      MessageFlags.Ephemeral,
    );
    const first = await harness.discord.waitFor(isEditOf(ids), 'the first page');
    const prompts = (r: DiscordRequest) =>
      [...(r.json.embeds[0].description as string).matchAll(/\*\*(history \d)\*\*/g)].map(
        (m) => m[1],
      );
    expect(prompts(first)).toEqual([
      'history 7',
      'history 6',
      'history 5',
      'history 4',
      'history 3',
    ]);
    expect(buttonsOf(first).map((b) => [b.label, b.disabled])).toEqual([
      ['Newer', true],
      ['Older', false],
    ]);

    const older = harness.inject(
      buttonClick(
        buttonOf(first, 'history').replace(':0:', ':1:'),
        { id: messageIdOf(first) },
        { user: BOB },
      ),
    );
    expect((await harness.discord.waitFor(callbackOf(older))).json.type).toBe(
      InteractionResponseType.DeferredMessageUpdate,
    );
    const second = await harness.discord.waitFor(isEditOf(older), 'the second page');
    expect(prompts(second)).toEqual(['history 2', 'history 1']);
    expect(buttonsOf(second).map((b) => [b.label, b.disabled])).toEqual([
      ['Newer', false],
      ['Older', true],
    ]);
  });

  it('/job suggests the user’s own recent jobs as they type', async () => {
    const harness = await startBot();
    const mine = await harness.gateway
      .forEndUser(endUserIdOf(ALICE))
      .generate({ model: 'Z_IMAGE_TURBO', prompt: 'an owl at dusk', imageSize: 'SQUARE_1_1' });
    await harness.gateway
      .forEndUser(endUserIdOf(BOB))
      .generate({ model: 'Z_IMAGE_TURBO', prompt: 'an owl at noon', imageSize: 'SQUARE_1_1' });
    const ids = harness.inject(autocomplete('job', { name: 'id', value: 'owl' }));
    const answer = await harness.discord.waitFor(callbackOf(ids), 'the suggestions');
    expect(answer.json).toEqual({
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: { choices: [{ name: expect.stringContaining('an owl at dusk'), value: mine.id }] },
    });
  });
});

describe('/settings', () => {
  it('keeps the user’s defaults across a restart and applies them where /imagine leaves them out', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'zimage-bot-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startBot(dataDir);
    const saved = first.inject(
      slashCommand('settings', { model: 'Z_IMAGE_BASE', size: 'LANDSCAPE_16_9', format: 'WEBP' }),
    );
    const answer = await first.discord.waitFor(isEditOf(saved), 'the settings answer');
    expect(answer.json.flags).toBe(MessageFlags.Ephemeral);
    expect(answer.json.embeds[0].fields.map((f: { value: string }) => f.value)).toEqual([
      'Z-Image Base',
      'Landscape 16:9',
      'WebP',
    ]);
    await first.close();
    harnesses.splice(harnesses.indexOf(first), 1);

    const restarted = await startBot(dataDir);
    const { result } = await imagineToResult(restarted, {
      prompt: 'with my defaults',
      format: 'PNG',
    });
    expect(await restarted.gateway.job(jobIdOf(result))).toMatchObject({
      model: 'Z_IMAGE_BASE',
      imageSize: 'LANDSCAPE_16_9',
      outputFormat: 'PNG',
    });
    // Someone else's /imagine keeps the gateway's defaults.
    const bob = restarted.inject(slashCommand('imagine', { prompt: 'no defaults' }, { user: BOB }));
    const bobs = await restarted.discord.waitFor((r) => isEditOf(bob)(r) && isResult(r));
    expect(await restarted.gateway.job(jobIdOf(bobs))).toMatchObject({
      model: 'Z_IMAGE_TURBO',
      imageSize: 'SQUARE_1_1',
    });
  });

  it('/imagine takes Base’s acceleration, checked against the gateway’s models', async () => {
    const harness = await startBot();
    const other = BASE.accelerations.find((a) => a !== BASE.defaultAcceleration) ?? '';
    const { result } = await imagineToResult(harness, {
      prompt: 'fast base',
      model: 'Z_IMAGE_BASE',
      acceleration: other,
    });
    expect((await harness.gateway.job(jobIdOf(result)))?.acceleration).toBe(other);
  });
});

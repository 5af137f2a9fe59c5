/**
 * The bot end to end: the real discord.js client talking to a fake Discord REST server,
 * interactions injected as raw payloads, and the real gateway on the Pixazo simulator.
 */

import { startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { InteractionResponseType, MessageFlags } from 'discord.js';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BotHarness, type BotHarnessOptions } from './helpers/bot-harness.ts';
import { BOT_KEY } from './helpers/bot-key.ts';
import type { DiscordRequest } from './helpers/fake-discord.ts';
import {
  AGE_RESTRICTED_CHANNEL_ID,
  ALICE,
  APP_ID,
  BOB,
  buttonClick,
  CHANNEL_ID,
  type InteractionIds,
  slashCommand,
} from './helpers/interactions.ts';

let gateway: TestGateway;
let bot: BotHarness | undefined;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway.close();
});
afterEach(async () => {
  await bot?.close();
  bot = undefined;
});

async function startBot(options: Partial<BotHarnessOptions> = {}): Promise<BotHarness> {
  bot = await BotHarness.start({
    gatewayUrl: gateway.url,
    apiKey: options.apiKey ?? (await gateway.key(BOT_KEY)),
    editIntervalMs: 200,
    ...options,
  });
  return bot;
}

// ——— What Discord received, by interaction ———

const callbackOf =
  ({ id, token }: InteractionIds) =>
  (r: DiscordRequest) =>
    r.method === 'POST' && r.path === `/interactions/${id}/${token}/callback`;
const originalOf = ({ token }: InteractionIds) => `/webhooks/${APP_ID}/${token}/messages/@original`;
const isEditOf = (ids: InteractionIds) => (r: DiscordRequest) =>
  r.method === 'PATCH' && r.path === originalOf(ids) && r.status === 200;
const isFollowUpOf =
  ({ token }: InteractionIds) =>
  (r: DiscordRequest) =>
    r.method === 'POST' && r.path === `/webhooks/${APP_ID}/${token}` && r.status === 200;
const isResult = (r: DiscordRequest) => r.files.length > 0 || r.json?.embeds?.length > 0;

function customIdsOf(edit: DiscordRequest): Record<string, string> {
  const buttons: { custom_id: string }[] = edit.json.components.flatMap(
    (row: { components: unknown[] }) => row.components,
  );
  return Object.fromEntries(buttons.map((b) => [b.custom_id.split(':')[1], b.custom_id]));
}

async function imagineToResult(
  harness: BotHarness,
  options: Record<string, string | number | boolean>,
) {
  const ids = harness.inject(slashCommand('imagine', options));
  const result = await harness.discord.waitFor(
    (r) => isEditOf(ids)(r) && isResult(r),
    'the result edit',
  );
  return { ids, result, messageId: (result.response as { id: string }).id };
}

describe('/imagine', () => {
  it('defers before any gateway call, even while the gateway stalls', async () => {
    const harness = await startBot();
    harness.proxy.hold();
    const ids = harness.inject(slashCommand('imagine', { prompt: 'a lighthouse in a storm' }));

    const deferral = await harness.discord.waitFor(callbackOf(ids), 'the deferral');
    expect(deferral.json).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: 0 },
    });
    // The first bytes the bot sends the (stalled) gateway: the proxy records them on arrival.
    await harness.timeline.waitFor('gateway');
    const { timeline } = harness;
    expect(timeline.indexOf('discord', /\/callback$/)).toBeLessThan(timeline.indexOf('gateway'));
    expect(harness.discord.find(isEditOf(ids))).toEqual([]);

    harness.proxy.release();
    await harness.discord.waitFor((r) => isEditOf(ids)(r) && isResult(r), 'the result');
  });

  it('edits the reply as the job moves, then attaches the images and pings the user', async () => {
    const harness = await startBot({ editIntervalMs: undefined });
    const { ids, result } = await imagineToResult(harness, {
      prompt: 'a red fox in fresh snow',
      model: 'Z_IMAGE_BASE',
      steps: 12,
      images: 2,
      size: 'LANDSCAPE_16_9',
    });
    const followUp = await harness.discord.waitFor(isFollowUpOf(ids), 'the ping');

    const forThisInteraction = harness.discord.requests.filter(
      (r) => r.path.includes(ids.token) && r.status < 300,
    );
    const edits = forThisInteraction.filter(isEditOf(ids));
    // Deferral, progress edits, the result, then the ping: in this order and nothing else.
    expect(forThisInteraction[0]).toBe(harness.discord.find(callbackOf(ids))[0]);
    expect(edits.at(-1)).toBe(result);
    expect(forThisInteraction.at(-1)).toBe(followUp);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    for (const progress of edits.slice(0, -1)) {
      expect(progress.files).toEqual([]);
      expect(progress.json.content).toMatch(
        /^\*\*a red fox in fresh snow\*\* — <@\d+>\n(⏳ Queued|🎨 Generating · Z-Image Base · 2 images · started <t:\d+:R> · (done <t:\d+:R>|finishing up)).*\n-# job_\w+$/,
      );
    }

    expect(result.json.content).toBe(`<@${ALICE}>`);
    const [embed] = result.json.embeds;
    expect(embed.description).toBe('a red fox in fresh snow');
    expect(
      Object.fromEntries(
        embed.fields.map((f: { name: string; value: string }) => [f.name, f.value]),
      ),
    ).toMatchObject({
      Model: 'Z-Image Base',
      Size: 'Landscape 16:9 (1024×576)',
      Steps: '12',
      Cost: '$0.020',
      Duration: expect.stringMatching(/ s$/),
    });
    expect(Object.keys(customIdsOf(result))).toEqual([
      'reroll',
      'edit',
      'vary',
      'switch',
      'details',
      'delete',
    ]);
    expect(result.json.attachments).toEqual([
      { id: 0, filename: expect.stringMatching(/^job_\w+-1\.png$/) },
      { id: 1, filename: expect.stringMatching(/^job_\w+-2\.png$/) },
    ]);
    for (const file of result.files) {
      expect(file.contentType).toBe('image/png');
      expect(await sharp(file.data).metadata()).toMatchObject({
        format: 'png',
        width: 1024,
        height: 576,
      });
    }

    expect(followUp.json).toMatchObject({
      content: expect.stringContaining(
        `<@${ALICE}> your images are ready: https://discord.com/channels/`,
      ),
      allowed_mentions: { users: [ALICE] },
    });
  });

  it('waits out a 429 from Discord and still delivers the result', async () => {
    const harness = await startBot();
    // Discord would limit the first edit of whatever interaction comes next.
    harness.discord.rateLimit((r) => r.method === 'PATCH' && r.path.endsWith('/@original'), 1);
    const { ids, result } = await imagineToResult(harness, { prompt: 'rate limited' });

    const onOriginal = harness.discord.requests.filter((r) => r.path === originalOf(ids));
    expect(onOriginal[0]?.status).toBe(429);
    expect(onOriginal[1]?.status).toBe(200);
    expect(result.files).toHaveLength(1);
  });

  it('still delivers the result when the connection to the gateway drops mid-job', async () => {
    const harness = await startBot();
    const ids = harness.inject(
      slashCommand('imagine', { prompt: 'through a blip', model: 'Z_IMAGE_BASE', steps: 100 }),
    );
    const webSocketUpgrade = /^GET \/graphql/;
    await harness.timeline.waitFor('gateway', webSocketUpgrade);
    harness.proxy.cutConnections();
    const result = await harness.discord.waitFor((r) => isEditOf(ids)(r) && isResult(r));
    expect(result.files).toHaveLength(1);
    // It reconnected: a second upgrade request went through the proxy.
    const upgrades = harness.timeline.events.filter(
      (e) => e.source === 'gateway' && webSocketUpgrade.test(e.what),
    );
    expect(upgrades.length).toBeGreaterThanOrEqual(2);
  });

  it('answers a budget overrun with a short private message and no public trace', async () => {
    const harness = await startBot({
      apiKey: await gateway.key({ ...BOT_KEY, endUserLimits: { dailyBudgetMicroUsd: 5_000 } }),
    });
    const ids = harness.inject(slashCommand('imagine', { prompt: 'too expensive' }));
    const message = await harness.discord.waitFor(isFollowUpOf(ids), 'the private message');

    expect(message.json).toMatchObject({
      content:
        "You've reached your daily image budget. It resets tomorrow; /usage shows your spend.",
      flags: MessageFlags.Ephemeral,
    });
    const deleted = harness.discord.find(
      (r) => r.method === 'DELETE' && r.path === originalOf(ids),
    );
    expect(deleted).toHaveLength(1);
    expect(harness.discord.requests.indexOf(deleted[0] as DiscordRequest)).toBeLessThan(
      harness.discord.requests.indexOf(message),
    );
    expect(harness.discord.find(isEditOf(ids))).toEqual([]);
  });

  it('refuses at once, before any network call, past the cooldown', async () => {
    const harness = await startBot({ cooldownSeconds: 3600 });
    const first = harness.inject(slashCommand('imagine', { prompt: 'one' }));
    await harness.discord.waitFor(callbackOf(first));
    const second = harness.inject(slashCommand('imagine', { prompt: 'two' }));
    const refusal = await harness.discord.waitFor(callbackOf(second));

    expect(refusal.json).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: {
        content: expect.stringMatching(/^Easy there! You can start another image <t:\d+:R>\.$/),
        flags: MessageFlags.Ephemeral,
      },
    });
    // A direct reply, not a deferral: nothing else was needed to decide.
    expect(harness.discord.find((r) => r.path.includes(second.token))).toHaveLength(1);
    await harness.discord.waitFor((r) => isEditOf(first)(r) && isResult(r));
  });

  it('lets the safety checker be turned off only in age-restricted channels', async () => {
    const harness = await startBot();
    const refused = harness.inject(slashCommand('imagine', { prompt: 'x', safety: false }));
    expect((await harness.discord.waitFor(callbackOf(refused))).json.data).toMatchObject({
      content: 'The safety checker can only be turned off in age-restricted channels.',
      flags: MessageFlags.Ephemeral,
    });

    const ids = harness.inject(
      slashCommand(
        'imagine',
        { prompt: 'x', safety: false },
        { channelId: AGE_RESTRICTED_CHANNEL_ID },
      ),
    );
    const result = await harness.discord.waitFor((r) => isEditOf(ids)(r) && isResult(r));
    const jobId = result.json.embeds[0].footer.text.split(' ')[0];
    expect((await harness.gateway.job(jobId))?.enableSafetyChecker).toBe(false);
  });

  it('re-encodes images over the upload limit, and links what still does not fit', async () => {
    const harness = await startBot();
    const limit = 30_000;
    const converted = harness.inject(
      slashCommand('imagine', { prompt: 'big', images: 2 }, { attachmentSizeLimit: limit }),
    );
    const result = await harness.discord.waitFor((r) => isEditOf(converted)(r) && isResult(r));
    expect(result.files).toHaveLength(2);
    for (const file of result.files) {
      expect(file.contentType).toMatch(/^image\/(webp|jpeg)$/);
      expect(file.data.length).toBeLessThanOrEqual(limit);
    }

    const linked = harness.inject(
      slashCommand('imagine', { prompt: 'huge' }, { attachmentSizeLimit: 100 }),
    );
    const linkedResult = await harness.discord.waitFor((r) => isEditOf(linked)(r) && isResult(r));
    expect(linkedResult.files).toEqual([]);
    // Image URLs start with the gateway's own address (no PUBLIC_URL), not the proxy's.
    expect(linkedResult.json.embeds[0].description).toMatch(
      new RegExp(
        `^huge\n\n-# \\[Image 1\\]\\(${gateway.url}/images/.+\\) was too large to attach\\.$`,
      ),
    );
  });

  it.each([
    ['is about to expire', Date.now() - 14.5 * 60_000],
    ['is refused by Discord', Date.now()],
  ])('finishes through the channel when the interaction token %s', async (_, createdAt) => {
    // Slow edits, so the token can be made to expire between the first edit and the result.
    const harness = await startBot({ editIntervalMs: 1_000 });
    const ids = harness.inject(slashCommand('imagine', { prompt: 'slow' }, { createdAt }));
    const firstEdit = await harness.discord.waitFor(isEditOf(ids));
    harness.discord.expireToken(ids.token);
    const messageId = (firstEdit.response as { id: string }).id;

    const channelEdit = await harness.discord.waitFor(
      (r) =>
        r.method === 'PATCH' &&
        r.path === `/channels/${CHANNEL_ID}/messages/${messageId}` &&
        isResult(r),
      'the result through the channel',
    );
    expect(channelEdit.files).toHaveLength(1);
    expect(channelEdit.headers.authorization).toBe('Bot fake-bot-token');
    const ping = await harness.discord.waitFor(
      (r) => r.method === 'POST' && r.path === `/channels/${CHANNEL_ID}/messages`,
    );
    expect(ping.json.allowed_mentions).toEqual({ users: [ALICE] });
  });
});

describe('buttons', () => {
  it('re-roll is the owner’s alone; others are refused privately', async () => {
    const apiKey = await gateway.key(BOT_KEY);
    const harness = await startBot({ apiKey });
    const { result, messageId } = await imagineToResult(harness, { prompt: 'a castle' });
    const buttons = customIdsOf(result);

    const byBob = harness.inject(
      buttonClick(buttons.reroll ?? '', { id: messageId }, { user: BOB }),
    );
    expect((await harness.discord.waitFor(callbackOf(byBob))).json).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: {
        content: 'Only the person who made this image can use that button.',
        flags: MessageFlags.Ephemeral,
      },
    });

    // A fresh bot (as after a restart) still understands the button.
    await harness.close();
    const restarted = await startBot({ apiKey });
    const byAlice = restarted.inject(buttonClick(buttons.reroll ?? '', { id: messageId }));
    expect((await restarted.discord.waitFor(callbackOf(byAlice))).json.type).toBe(
      InteractionResponseType.DeferredChannelMessageWithSource,
    );
    const rerolled = await restarted.discord.waitFor((r) => isEditOf(byAlice)(r) && isResult(r));
    expect(rerolled.json.embeds[0].description).toBe('a castle');
    expect(rerolled.json.embeds[0].footer.text).not.toBe(result.json.embeds[0].footer.text);
  });

  it('delete removes the message for its owner only', async () => {
    const harness = await startBot();
    const { result, messageId } = await imagineToResult(harness, { prompt: 'to be deleted' });
    const deleteId = customIdsOf(result).delete ?? '';

    const byBob = harness.inject(buttonClick(deleteId, { id: messageId }, { user: BOB }));
    expect((await harness.discord.waitFor(callbackOf(byBob))).json.data.flags).toBe(
      MessageFlags.Ephemeral,
    );
    expect(harness.discord.find((r) => r.method === 'DELETE')).toEqual([]);

    const byAlice = harness.inject(buttonClick(deleteId, { id: messageId }));
    expect((await harness.discord.waitFor(callbackOf(byAlice))).json.type).toBe(
      InteractionResponseType.DeferredMessageUpdate,
    );
    await harness.discord.waitFor((r) => r.method === 'DELETE' && r.path === originalOf(byAlice));
  });

  it('details shows the parameters privately, to anyone', async () => {
    const harness = await startBot();
    const { result, messageId } = await imagineToResult(harness, {
      prompt: 'details please',
      steps: 6,
    });
    const byBob = harness.inject(
      buttonClick(customIdsOf(result).details ?? '', { id: messageId }, { user: BOB }),
    );
    expect((await harness.discord.waitFor(callbackOf(byBob))).json).toMatchObject({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    const details = await harness.discord.waitFor(isEditOf(byBob));
    const fields = Object.fromEntries(
      details.json.embeds[0].fields.map((f: { name: string; value: string }) => [f.name, f.value]),
    );
    expect(fields).toMatchObject({ Steps: '6', Model: 'Z-Image Turbo', 'Safety checker': 'on' });
  });
});

describe('/usage and /job', () => {
  it('/usage shows the user’s own spend and limits, privately', async () => {
    const harness = await startBot({
      apiKey: await gateway.key({
        ...BOT_KEY,
        endUserLimits: { dailyBudgetMicroUsd: 1_000_000, maxConcurrentJobs: 3 },
      }),
    });
    await imagineToResult(harness, { prompt: 'spend a little', images: 2 });
    const ids = harness.inject(slashCommand('usage', {}));
    expect((await harness.discord.waitFor(callbackOf(ids))).json.data.flags).toBe(
      MessageFlags.Ephemeral,
    );
    const usage = await harness.discord.waitFor(isEditOf(ids));
    expect(usage.json.embeds[0].fields).toEqual([
      { name: 'Spent', value: '$0.016 of $1.00 today' },
      { name: 'Jobs', value: '0 of 3 running' },
    ]);
  });

  it('/job posts the user’s own result again, and not anyone else’s', async () => {
    const harness = await startBot();
    const { result } = await imagineToResult(harness, { prompt: 'post me again' });
    const jobId = result.json.embeds[0].footer.text.split(' ')[0];

    const again = harness.inject(slashCommand('job', { id: jobId }));
    const reposted = await harness.discord.waitFor((r) => isEditOf(again)(r) && isResult(r));
    expect(reposted.files).toHaveLength(1);
    expect(reposted.json.embeds[0].description).toBe('post me again');

    const byBob = harness.inject(slashCommand('job', { id: jobId }, { user: BOB }));
    const refusal = await harness.discord.waitFor(isFollowUpOf(byBob));
    expect(refusal.json).toMatchObject({
      content: `I couldn't find a job \`${jobId}\` of yours.`,
      flags: MessageFlags.Ephemeral,
    });
  });
});

/**
 * The bot finishes what it started across its own restarts: the real bot process, killed
 * with SIGKILL while a job runs, started again against the same fake Discord, the same real
 * gateway and the same BOT_DATA_DIR, finishes the job's message as it would have.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '@zimage/gateway/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnfinishedJobs } from '../src/unfinished-jobs.ts';
import { BOT_KEY } from './helpers/bot-key.ts';
import { BotProcess } from './helpers/bot-process.ts';
import { type DiscordRequest, FakeDiscord } from './helpers/fake-discord.ts';
import { FakeDiscordGateway } from './helpers/fake-discord-gateway.ts';
import {
  ALICE,
  APP_ID,
  CHANNEL_ID,
  type InteractionIds,
  slashCommand,
} from './helpers/interactions.ts';

let gateway: TestGateway;
let discordGateway: FakeDiscordGateway;
let discord: FakeDiscord;
const bots: BotProcess[] = [];

beforeAll(async () => {
  gateway = await startTestGateway();
  discordGateway = await FakeDiscordGateway.start();
  discord = await FakeDiscord.start({
    webhookChannelId: CHANNEL_ID,
    gatewayUrl: discordGateway.url,
  });
});
afterEach(async () => {
  gateway.releaseJobs();
  await Promise.all(bots.splice(0).map((bot) => bot.stop()));
});
afterAll(async () => {
  await discord.close();
  await discordGateway.close();
  await gateway.close();
});

const originalOf = ({ token }: InteractionIds) => `/webhooks/${APP_ID}/${token}/messages/@original`;
const isEditOf = (ids: InteractionIds) => (r: DiscordRequest) =>
  r.method === 'PATCH' && r.path === originalOf(ids) && r.status === 200;
const isResult = (r: DiscordRequest) => r.json?.embeds?.length > 0 && r.files.length > 0;
const messageIdOf = (request: DiscordRequest) => (request.response as { id: string }).id;

async function botEnv() {
  return {
    DISCORD_TOKEN: 'fake-bot-token',
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_API_URL: discord.url,
    GATEWAY_URL: gateway.url,
    GATEWAY_API_KEY: await gateway.key(BOT_KEY),
    BOT_DATA_DIR: await mkdtemp(join(tmpdir(), 'zimage-bot-')),
    BOT_COOLDOWN_SECONDS: '0',
  };
}

/** A bot process, logged in to the fake Discord gateway. */
async function startBot(env: Record<string, string>): Promise<BotProcess> {
  const bot = new BotProcess(env);
  bots.push(bot);
  await bot.waitForLog((line) => line.message === 'discord-bot ready', 'it is ready');
  return bot;
}

/** Runs /imagine on a held job, and kills the bot once Discord has the job's first edit. */
async function imagineThenKill(env: Record<string, string>, createdAt = Date.now()) {
  gateway.holdJobs();
  const killed = await startBot(env);
  const interaction = slashCommand('imagine', { prompt: 'survives a restart' }, { createdAt });
  discordGateway.dispatch('INTERACTION_CREATE', interaction.payload);
  const firstEdit = await discord.waitFor(isEditOf(interaction.ids), 'the first edit');
  expect(firstEdit.json.content).toMatch(/^\*\*survives a restart\*\* — <@\d+>\n⏳ Queued/);
  return { killed, ids: interaction.ids, firstEdit };
}

/** What the bot noted, read from its file as another process would. */
function noted(dataDir: string) {
  const store = UnfinishedJobs.open(dataDir);
  try {
    return store.list();
  } finally {
    store.close();
  }
}

describe('a bot killed mid-job and started again', () => {
  it('finishes the job as an edit of the same message, and mentions the user', async () => {
    const env = await botEnv();
    const { killed, ids, firstEdit } = await imagineThenKill(env);
    await killed.kill();
    const editsBefore = discord.find(isEditOf(ids)).length;

    const restarted = new BotProcess(env);
    bots.push(restarted);
    // The restarted bot follows the job again: its current state, shown once more.
    await discord.waitFor(
      (r) => isEditOf(ids)(r) && discord.find(isEditOf(ids)).indexOf(r) >= editsBefore,
      'the resumed job’s first edit',
    );
    gateway.releaseJobs();

    const result = await discord.waitFor((r) => isEditOf(ids)(r) && isResult(r), 'the result');
    expect(messageIdOf(result)).toBe(messageIdOf(firstEdit));
    expect(result.json.content).toBe(`<@${ALICE}>`);
    expect(result.json.embeds[0].description).toBe('survives a restart');
    const ping = await discord.waitFor(
      (r) => r.method === 'POST' && r.path === `/webhooks/${APP_ID}/${ids.token}`,
      'the ping',
    );
    expect(ping.json).toMatchObject({
      content: expect.stringContaining(
        `<@${ALICE}> your image is ready: https://discord.com/channels/`,
      ),
      allowed_mentions: { users: [ALICE] },
    });

    await restarted.waitForLog((line) => line.message === 'job finished', 'the job is finished');
    expect(noted(env.BOT_DATA_DIR)).toEqual([]);
    // The token is a secret: neither run logged it.
    expect([...killed.stderr, ...restarted.stderr].join('\n')).not.toContain(ids.token);
  });

  it('finishes through the channel once the interaction token has expired', async () => {
    const env = await botEnv();
    // Discord created the interaction 14.5 minutes ago: its token is about to go.
    const { killed, ids, firstEdit } = await imagineThenKill(env, Date.now() - 14.5 * 60_000);
    const messageId = messageIdOf(firstEdit);
    // The bot notes the message once the first edit has answered with it.
    await killed.waitForLog(
      (line) => line.message === 'unfinished job noted' && line.messageId === messageId,
      'the message noted',
    );
    expect(noted(env.BOT_DATA_DIR)[0]?.message.messageId).toBe(messageId);
    await killed.kill();
    discord.expireToken(ids.token);

    const restarted = new BotProcess(env);
    bots.push(restarted);
    await restarted.waitForLog((line) => line.message === 'job resumed', 'the job is resumed');
    gateway.releaseJobs();

    const result = await discord.waitFor(
      (r) =>
        r.method === 'PATCH' &&
        r.path === `/channels/${CHANNEL_ID}/messages/${messageId}` &&
        isResult(r),
      'the result through the channel',
    );
    expect(result.headers.authorization).toBe('Bot fake-bot-token');
    expect(result.json.content).toBe(`<@${ALICE}>`);
    const ping = await discord.waitFor(
      (r) => r.method === 'POST' && r.path === `/channels/${CHANNEL_ID}/messages`,
      'the ping through the channel',
    );
    expect(ping.json.allowed_mentions).toEqual({ users: [ALICE] });
    await restarted.waitForLog((line) => line.message === 'job finished', 'the job is finished');
    expect(noted(env.BOT_DATA_DIR)).toEqual([]);
  });
});

/** The two scripts as people run them: `start` refusing a bad environment, `register`. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestGateway } from '@zimage/gateway/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BOT_KEY } from './helpers/bot-key.ts';
import { FakeDiscord } from './helpers/fake-discord.ts';
import { APP_ID, CHANNEL_ID, GUILD_ID } from './helpers/interactions.ts';

const run = promisify(execFile);
const dataDir = () => mkdtemp(join(tmpdir(), 'zimage-bot-'));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

async function script(file: string, env: Record<string, string>, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], {
      cwd: packageDir,
      // Never the default ./.data inside the repository.
      env: { PATH: process.env.PATH ?? '', BOT_DATA_DIR: await dataDir(), ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let discord: FakeDiscord | undefined;
afterEach(async () => {
  await discord?.close();
  discord = undefined;
});

describe('start', () => {
  const complete = {
    DISCORD_TOKEN: 'bot-token',
    DISCORD_APPLICATION_ID: APP_ID,
    GATEWAY_URL: 'http://127.0.0.1:4000',
    GATEWAY_API_KEY: 'zk_secret',
  };

  it.each(Object.keys(complete))('stops with one clear line when %s is missing', async (name) => {
    const result = await script('src/main.ts', { ...complete, [name]: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^discord-bot: ${name} is not set: [^\\n]+\\n$`));
  });

  it('stops with one line when BOT_DATA_DIR cannot hold the bot’s data', async () => {
    const file = join(await dataDir(), 'a-file');
    await writeFile(file, '');
    const result = await script('src/main.ts', { ...complete, BOT_DATA_DIR: join(file, 'sub') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^discord-bot: BOT_DATA_DIR is unusable: ENOTDIR[^\n]+\n$/);
  });

  it('stops when the gateway refuses the key, or the key cannot act for users', async () => {
    const gateway = await startTestGateway();
    try {
      const refused = await script('src/main.ts', { ...complete, GATEWAY_URL: gateway.url });
      expect(refused).toMatchObject({
        code: 1,
        stderr: `discord-bot: GATEWAY_API_KEY was refused by the gateway at ${gateway.url}\n`,
      });
      const readOnly = await gateway.key({ ...BOT_KEY, scopes: ['generate', 'read'] });
      const lacking = await script('src/main.ts', {
        ...complete,
        GATEWAY_URL: gateway.url,
        GATEWAY_API_KEY: readOnly,
      });
      expect(lacking).toMatchObject({
        code: 1,
        stderr: 'discord-bot: GATEWAY_API_KEY lacks the act-as scope (it has: generate, read)\n',
      });
    } finally {
      await gateway.close();
    }
  });
});

describe('register', () => {
  it('puts the commands, built from the gateway’s models, in one guild through DISCORD_API_URL', async () => {
    discord = await FakeDiscord.start({ webhookChannelId: CHANNEL_ID });
    const gateway = await startTestGateway({ maxPromptLength: 1500 });
    try {
      const result = await script(
        'src/register.ts',
        {
          DISCORD_TOKEN: 'bot-token',
          DISCORD_APPLICATION_ID: APP_ID,
          DISCORD_API_URL: discord.url,
          GATEWAY_URL: gateway.url,
          GATEWAY_API_KEY: await gateway.key(BOT_KEY),
        },
        ['--guild', GUILD_ID],
      );
      expect(result).toMatchObject({
        code: 0,
        stdout: `Registered /imagine, /usage, /job, /history, /settings in guild ${GUILD_ID}.\n`,
      });
    } finally {
      await gateway.close();
    }
    const [put] = discord.requests;
    expect(put).toMatchObject({
      method: 'PUT',
      path: `/applications/${APP_ID}/guilds/${GUILD_ID}/commands`,
      status: 200,
    });
    expect(put?.headers.authorization).toBe('Bot bot-token');
    expect(put?.json.map((c: { name: string }) => c.name)).toEqual([
      'imagine',
      'usage',
      'job',
      'history',
      'settings',
    ]);
    const prompt = put?.json[0].options.find((o: { name: string }) => o.name === 'prompt');
    expect(prompt.max_length).toBe(1500);
  });

  it('stops with one line when the gateway cannot tell it the models', async () => {
    const result = await script('src/register.ts', {
      DISCORD_TOKEN: 'bot-token',
      DISCORD_APPLICATION_ID: APP_ID,
      GATEWAY_URL: 'http://127.0.0.1:9',
      GATEWAY_API_KEY: 'zk_secret',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^register: cannot read the models from the gateway at http:\/\/127\.0\.0\.1:9: No answer [^\n]+\n$/,
    );
  });

  it('says which variable is missing', async () => {
    const result = await script('src/register.ts', { DISCORD_TOKEN: 'bot-token' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^register: DISCORD_APPLICATION_ID is not set: /);
  });
});

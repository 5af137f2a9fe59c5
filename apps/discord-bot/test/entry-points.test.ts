/** The two scripts as people run them: `start` refusing a bad environment, `register`. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from './helpers/fake-discord.ts';
import { APP_ID, CHANNEL_ID, GUILD_ID } from './helpers/interactions.ts';
import { startRealGateway } from './helpers/real-gateway.ts';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

async function script(file: string, env: Record<string, string>, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? '', ...env },
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

  it('stops when the gateway refuses the key, or the key cannot act for users', async () => {
    const gateway = await startRealGateway();
    try {
      const refused = await script('src/main.ts', { ...complete, GATEWAY_URL: gateway.url });
      expect(refused).toMatchObject({
        code: 1,
        stderr: `discord-bot: GATEWAY_API_KEY was refused by the gateway at ${gateway.url}\n`,
      });
      const readOnly = await gateway.botKey({}, ['generate', 'read']);
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
  it('puts the commands in one guild through DISCORD_API_URL', async () => {
    discord = await FakeDiscord.start({ webhookChannelId: CHANNEL_ID });
    const result = await script(
      'src/register.ts',
      { DISCORD_TOKEN: 'bot-token', DISCORD_APPLICATION_ID: APP_ID, DISCORD_API_URL: discord.url },
      ['--guild', GUILD_ID],
    );
    expect(result).toMatchObject({
      code: 0,
      stdout: `Registered /imagine, /usage, /job in guild ${GUILD_ID}.\n`,
    });
    const [put] = discord.requests;
    expect(put).toMatchObject({
      method: 'PUT',
      path: `/applications/${APP_ID}/guilds/${GUILD_ID}/commands`,
      status: 200,
    });
    expect(put?.headers.authorization).toBe('Bot bot-token');
    expect(put?.json.map((c: { name: string }) => c.name)).toEqual(['imagine', 'usage', 'job']);
  });

  it('says which variable is missing', async () => {
    const result = await script('src/register.ts', { DISCORD_TOKEN: 'bot-token' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^register: DISCORD_APPLICATION_ID is not set: /);
  });
});

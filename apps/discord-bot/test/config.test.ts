import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBotConfig, loadRegisterConfig } from '../src/config.ts';

const complete = {
  DISCORD_TOKEN: 'bot-token',
  DISCORD_APPLICATION_ID: '123456789012345678',
  GATEWAY_URL: 'http://127.0.0.1:4000/graphql',
  GATEWAY_API_KEY: 'zk_secret',
};

describe('loadBotConfig', () => {
  it('reads the environment, with Discord’s own API as the default', () => {
    expect(loadBotConfig(complete)).toEqual({
      discordToken: 'bot-token',
      applicationId: '123456789012345678',
      discordApiUrl: 'https://discord.com/api',
      gatewayUrl: 'http://127.0.0.1:4000',
      gatewayApiKey: 'zk_secret',
      maxJobsPerUser: 2,
      cooldownSeconds: 5,
      dataDir: './.data/discord-bot',
    });
  });

  it('takes a Discord REST proxy and the bot’s own limits', () => {
    const config = loadBotConfig({
      ...complete,
      DISCORD_API_URL: 'http://discord-proxy:8080/api/',
      BOT_MAX_JOBS_PER_USER: '4',
      BOT_COOLDOWN_SECONDS: '0',
      BOT_DATA_DIR: '/var/lib/zimage-bot',
    });
    expect(config).toMatchObject({
      discordApiUrl: 'http://discord-proxy:8080/api',
      maxJobsPerUser: 4,
      cooldownSeconds: 0,
      dataDir: '/var/lib/zimage-bot',
    });
  });

  it('stops when BOT_DATA_DIR names a file', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'bot-config-')), 'not-a-dir');
    await writeFile(file, '');
    expect(() => loadBotConfig({ ...complete, BOT_DATA_DIR: file })).toThrowError(
      'BOT_DATA_DIR is invalid: must name a directory, and names a file',
    );
  });

  it.each(Object.keys(complete))('stops on a missing %s with one line naming it', (name) => {
    const env = { ...complete, [name]: undefined };
    expect(() => loadBotConfig(env)).toThrowError(new RegExp(`^${name} is not set: .+`));
    expect(() => loadBotConfig({ ...complete, [name]: '' })).toThrowError(
      new RegExp(`^${name} is not set`),
    );
  });

  it.each([
    ['GATEWAY_URL', 'localhost:4000', 'GATEWAY_URL is invalid: must be an http(s) URL'],
    ['DISCORD_API_URL', 'ftp://x', 'DISCORD_API_URL is invalid: must be an http(s) URL'],
    [
      'DISCORD_APPLICATION_ID',
      'my-app',
      'DISCORD_APPLICATION_ID is invalid: must be a Discord id (digits only)',
    ],
    ['BOT_COOLDOWN_SECONDS', 'soon', 'BOT_COOLDOWN_SECONDS is invalid: must be a whole number'],
  ])('stops on a malformed %s', (name, value, message) => {
    expect(() => loadBotConfig({ ...complete, [name]: value })).toThrowError(message);
  });
});

describe('loadRegisterConfig', () => {
  it('needs only what registering commands needs: Discord, and the gateway for its models', () => {
    expect(loadRegisterConfig(complete)).toEqual({
      discordToken: 'bot-token',
      applicationId: '123456789012345678',
      discordApiUrl: 'https://discord.com/api',
      gatewayUrl: 'http://127.0.0.1:4000',
      gatewayApiKey: 'zk_secret',
    });
    expect(() => loadRegisterConfig({ ...complete, GATEWAY_URL: '' })).toThrowError(
      /^GATEWAY_URL is not set: /,
    );
  });
});

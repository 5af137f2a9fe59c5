import type { TestKeyOptions } from '@zimage/gateway/testing';

/** The bot's key as docs/discord-bot.md creates it (the default scopes: generate, read, act-as). */
export const BOT_KEY = { name: 'discord-bot' } satisfies TestKeyOptions;

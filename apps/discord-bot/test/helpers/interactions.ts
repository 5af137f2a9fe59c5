/**
 * Raw interaction payloads as Discord's gateway delivers them (INTERACTION_CREATE `d`), and
 * the guild the bot would have learnt about from GUILD_CREATE.
 */
import { randomBytes } from 'node:crypto';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  SnowflakeUtil,
} from 'discord.js';

export const APP_ID = '1400000000000000001';
export const GUILD_ID = '1400000000000000002';
export const CHANNEL_ID = '1400000000000000003';
export const AGE_RESTRICTED_CHANNEL_ID = '1400000000000000004';
export const ALICE = '1400000000000000010';
export const BOB = '1400000000000000011';

export const ATTACHMENT_LIMIT = 10 * 1024 * 1024;

export function guildCreatePayload() {
  const channel = (id: string, name: string, nsfw: boolean) => ({
    id,
    type: ChannelType.GuildText,
    guild_id: GUILD_ID,
    name,
    nsfw,
    position: 0,
    permission_overwrites: [],
  });
  return {
    id: GUILD_ID,
    name: 'Test guild',
    icon: null,
    owner_id: ALICE,
    roles: [],
    emojis: [],
    features: [],
    channels: [
      channel(CHANNEL_ID, 'general', false),
      channel(AGE_RESTRICTED_CHANNEL_ID, 'after-dark', true),
    ],
    members: [],
    threads: [],
    presences: [],
    voice_states: [],
    stickers: [],
    member_count: 2,
    unavailable: false,
  };
}

function user(id: string) {
  return {
    id,
    username: `user${id.slice(-2)}`,
    discriminator: '0',
    global_name: null,
    avatar: null,
  };
}

export interface InteractionIds {
  id: string;
  token: string;
}

/** Who, where and when an interaction happens: Alice, in the test channel, now, by default. */
type InteractionSettings = Omit<SlashCommandOptions, 'attachmentSizeLimit'>;

function base({
  user: userId = ALICE,
  channelId = CHANNEL_ID,
  createdAt = Date.now(),
}: InteractionSettings) {
  const ids: InteractionIds = {
    id: SnowflakeUtil.generate({ timestamp: createdAt }).toString(),
    token: `tok-${randomBytes(12).toString('hex')}`,
  };
  return {
    ids,
    payload: {
      ...ids,
      application_id: APP_ID,
      version: 1,
      guild_id: GUILD_ID,
      channel_id: channelId,
      channel: { id: channelId, type: ChannelType.GuildText, guild_id: GUILD_ID },
      member: {
        user: user(userId),
        roles: [],
        joined_at: '2025-01-01T00:00:00.000Z',
        deaf: false,
        mute: false,
        flags: 0,
        permissions: '2248473465835073',
      },
      app_permissions: '2248473465835073',
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': GUILD_ID },
      context: InteractionContextType.Guild,
      attachment_size_limit: ATTACHMENT_LIMIT,
    },
  };
}

export interface SlashCommandOptions {
  user?: string;
  channelId?: string;
  /** When Discord created the interaction (its token lasts 15 minutes from then). */
  createdAt?: number;
  attachmentSizeLimit?: number;
}

type OptionValue = string | number | boolean;

function optionType(value: OptionValue): ApplicationCommandOptionType {
  if (typeof value === 'boolean') return ApplicationCommandOptionType.Boolean;
  if (typeof value === 'string') return ApplicationCommandOptionType.String;
  return Number.isInteger(value)
    ? ApplicationCommandOptionType.Integer
    : ApplicationCommandOptionType.Number;
}

export function slashCommand(
  name: string,
  options: Record<string, OptionValue>,
  settings: SlashCommandOptions = {},
) {
  const { ids, payload } = base(settings);
  return {
    ids,
    payload: {
      ...payload,
      ...(settings.attachmentSizeLimit
        ? { attachment_size_limit: settings.attachmentSizeLimit }
        : {}),
      type: InteractionType.ApplicationCommand,
      data: {
        id: '1400000000000000100',
        name,
        type: ApplicationCommandType.ChatInput,
        options: Object.entries(options).map(([optionName, value]) => ({
          name: optionName,
          type: optionType(value),
          value,
        })),
      },
    },
  };
}

/** A click on a button of a message the bot posted earlier. */
export function buttonClick(
  customId: string,
  message: { id: string; content?: string },
  settings: InteractionSettings = {},
) {
  const channelId = settings.channelId ?? CHANNEL_ID;
  const { ids, payload } = base(settings);
  return {
    ids,
    payload: {
      ...payload,
      type: InteractionType.MessageComponent,
      data: { custom_id: customId, component_type: ComponentType.Button },
      message: {
        id: message.id,
        channel_id: channelId,
        type: 0,
        content: message.content ?? '',
        embeds: [],
        components: [],
        attachments: [],
        author: { ...user(APP_ID), bot: true },
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        pinned: false,
        flags: 0,
      },
    },
  };
}

/** What the user typed into one option while Discord asks for suggestions. */
export function autocomplete(
  name: string,
  focused: { name: string; value: string },
  settings: InteractionSettings = {},
) {
  const { ids, payload } = base(settings);
  return {
    ids,
    payload: {
      ...payload,
      type: InteractionType.ApplicationCommandAutocomplete,
      data: {
        id: '1400000000000000100',
        name,
        type: ApplicationCommandType.ChatInput,
        options: [{ ...focused, type: ApplicationCommandOptionType.String, focused: true }],
      },
    },
  };
}

/** A modal's answers as Discord sends them: each field in its label, by custom id. */
export type ModalAnswer =
  | { customId: string; value: string }
  | { customId: string; values: string[] };

/** The submission of a modal the bot showed (from a button of the message `messageId`). */
export function modalSubmit(
  customId: string,
  answers: readonly ModalAnswer[],
  settings: InteractionSettings = {},
) {
  const { ids, payload } = base(settings);
  return {
    ids,
    payload: {
      ...payload,
      type: InteractionType.ModalSubmit,
      data: {
        custom_id: customId,
        components: answers.map((answer, index) => ({
          type: ComponentType.Label,
          id: index + 1,
          component:
            'values' in answer
              ? {
                  type: ComponentType.StringSelect,
                  custom_id: answer.customId,
                  values: answer.values,
                }
              : { type: ComponentType.TextInput, custom_id: answer.customId, value: answer.value },
        })),
      },
    },
  };
}

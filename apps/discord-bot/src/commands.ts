/**
 * The slash commands as Discord registers them. Choices and ranges here are the union of what
 * the models accept; the per-model rules (Turbo's step range, guidance for Base only) are
 * checked against the gateway's `models` when a command arrives, so they cannot go stale.
 */
import {
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  SlashCommandBuilder,
} from 'discord.js';
import type { ImageSize, Model, OutputFormat } from './gateway-client.ts';
import { FORMAT_LABELS, MODEL_LABELS, SIZE_LABELS } from './presenter.ts';

export const COMMAND_NAMES = { imagine: 'imagine', usage: 'usage', job: 'job' } as const;

/** The `/imagine` options, by name; the adapter reads them with these names. */
export const IMAGINE_OPTIONS = {
  prompt: 'prompt',
  model: 'model',
  size: 'size',
  steps: 'steps',
  images: 'images',
  format: 'format',
  guidance: 'guidance',
  safety: 'safety',
} as const;

/** Pixazo's prompt limit; longer prompts would only come back as an error. */
const PROMPT_MAX_LENGTH = 4000;

function choices<K extends string>(labels: Record<K, string>) {
  return (Object.entries(labels) as [K, string][]).map(([value, name]) => ({ name, value }));
}

function guildCommand(name: string, description: string): SlashCommandBuilder {
  // Results go to guild channels (and their age-restricted ones): no DMs, no user installs.
  return new SlashCommandBuilder()
    .setName(name)
    .setDescription(description)
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
}

export function commandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const imagine = guildCommand(COMMAND_NAMES.imagine, 'Generate images from a text prompt')
    .addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.prompt)
        .setDescription('What to draw')
        .setRequired(true)
        .setMaxLength(PROMPT_MAX_LENGTH),
    )
    .addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.model)
        .setDescription('Turbo is fast and cheap; Base follows the prompt more closely')
        .addChoices(...choices<Model>(MODEL_LABELS)),
    )
    .addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.size)
        .setDescription('Aspect ratio (default square)')
        .addChoices(...choices<ImageSize>(SIZE_LABELS)),
    )
    .addIntegerOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.steps)
        .setDescription('Inference steps (Turbo 1–50, default 8; Base 10–100, default 28)')
        .setMinValue(1)
        .setMaxValue(100),
    )
    .addIntegerOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.images)
        .setDescription('How many images (1–4)')
        .setMinValue(1)
        .setMaxValue(4),
    )
    .addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.format)
        .setDescription('File format (default PNG)')
        .addChoices(...choices<OutputFormat>(FORMAT_LABELS)),
    )
    .addNumberOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.guidance)
        .setDescription('Base only: how closely to follow the prompt (1–20, default 4)')
        .setMinValue(1)
        .setMaxValue(20),
    )
    .addBooleanOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.safety)
        .setDescription('Safety checker (can be turned off only in age-restricted channels)'),
    );

  const usage = guildCommand(COMMAND_NAMES.usage, 'Your image spend today and your limits');

  const job = guildCommand(
    COMMAND_NAMES.job,
    'Post one of your earlier images again',
  ).addStringOption((o) =>
    o.setName('id').setDescription('The job id (shown under each result)').setRequired(true),
  );

  return [imagine.toJSON(), usage.toJSON(), job.toJSON()];
}

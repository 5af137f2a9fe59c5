/**
 * The slash commands as Discord registers them, built from the gateway's `models` answer when
 * `register` runs: the model choices and names, the steps, images and guidance ranges, and
 * the prompt's length limit are the gateway's, so Discord refuses out of range values before
 * the bot sees them. Per-model rules (each model's own step range, guidance for some models
 * only) are checked again against the gateway's current models when a command arrives.
 */
import type { ImageSize, ModelInfo, OutputFormat } from '@zimage/client';
import {
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  SlashCommandBuilder,
} from 'discord.js';
import { accelerationLabel, FORMAT_LABELS, SIZE_LABELS } from './presenter.ts';

export const COMMAND_NAMES = {
  imagine: 'imagine',
  usage: 'usage',
  job: 'job',
  history: 'history',
  settings: 'settings',
} as const;

/** The `/imagine` options, by name; the adapter reads them with these names. */
export const IMAGINE_OPTIONS = {
  prompt: 'prompt',
  model: 'model',
  size: 'size',
  steps: 'steps',
  images: 'images',
  format: 'format',
  guidance: 'guidance',
  acceleration: 'acceleration',
  safety: 'safety',
} as const;

/** The `/settings` options: the defaults a user can keep, and clearing them. */
export const SETTINGS_OPTIONS = {
  model: 'model',
  size: 'size',
  format: 'format',
  reset: 'reset',
} as const;

/** The `/job` option, filled in by autocomplete from the user's recent jobs. */
export const JOB_ID_OPTION = 'id';

/** Discord's longest option description. */
const DESCRIPTION_MAX_LENGTH = 100;

function choices<K extends string>(labels: Record<K, string>) {
  return (Object.entries(labels) as [K, string][]).map(([value, name]) => ({ name, value }));
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The detailed description when Discord takes it, else the short one. */
function describe(detailed: string, short: string): string {
  return detailed.length <= DESCRIPTION_MAX_LENGTH ? detailed : short;
}

function guildCommand(name: string, description: string): SlashCommandBuilder {
  // Results go to guild channels (and their age-restricted ones): no DMs, no user installs.
  return new SlashCommandBuilder()
    .setName(name)
    .setDescription(description)
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
}

function imagineCommand(
  models: readonly ModelInfo[],
): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const [defaultModel] = models;
  if (!defaultModel) throw new Error('The gateway lists no models');
  const min = (values: number[]) => Math.min(...values);
  const max = (values: number[]) => Math.max(...values);
  const guided = models.filter((m) => m.supportsGuidanceScale);
  const command = guildCommand(COMMAND_NAMES.imagine, 'Generate images from a text prompt')
    .addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.prompt)
        .setDescription('What to draw')
        .setRequired(true)
        .setMaxLength(min(models.map((m) => m.maxPromptLength))),
    )
    .addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.model)
        .setDescription(
          describe(
            `Which model (default ${defaultModel.name}): ${models.map((m) => `${m.name} $${m.priceUsdPerImage}/image`).join(', ')}`,
            `Which model (default ${defaultModel.name})`,
          ),
        )
        .addChoices(...models.map((m) => ({ name: m.name, value: m.id }))),
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
        .setDescription(
          describe(
            `Inference steps (${models.map((m) => `${m.name} ${m.minSteps}–${m.maxSteps}, default ${m.defaultSteps}`).join('; ')})`,
            'Inference steps (the range depends on the model)',
          ),
        )
        .setMinValue(min(models.map((m) => m.minSteps)))
        .setMaxValue(max(models.map((m) => m.maxSteps))),
    )
    .addIntegerOption((o) => {
      const most = max(models.map((m) => m.maxImages));
      return o
        .setName(IMAGINE_OPTIONS.images)
        .setDescription(`How many images (1–${most})`)
        .setMinValue(1)
        .setMaxValue(most);
    })
    .addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.format)
        .setDescription('File format (default PNG)')
        .addChoices(...choices<OutputFormat>(FORMAT_LABELS)),
    );
  if (guided.length > 0) {
    command.addNumberOption((o) => {
      const low = min(guided.map((m) => m.minGuidanceScale ?? Number.POSITIVE_INFINITY));
      const high = max(guided.map((m) => m.maxGuidanceScale ?? Number.NEGATIVE_INFINITY));
      const defaults = new Set(guided.map((m) => m.defaultGuidanceScale));
      const range = `${low}–${high}${defaults.size === 1 ? `, default ${[...defaults][0]}` : ''}`;
      const what =
        guided.length === models.length
          ? 'How closely to follow the prompt'
          : `${guided.map((m) => m.name).join(', ')} only: how closely to follow the prompt`;
      return o
        .setName(IMAGINE_OPTIONS.guidance)
        .setDescription(
          describe(
            `${what} (${range})`,
            'How closely to follow the prompt (not every model has it)',
          ),
        )
        .setMinValue(low)
        .setMaxValue(high);
    });
  }
  // Only the models with a choice of speed get the option (Turbo has one acceleration).
  const accelerated = models.filter((m) => m.accelerations.length > 1);
  if (accelerated.length > 0) {
    const values = [...new Set(accelerated.flatMap((m) => m.accelerations))];
    const defaults = accelerated
      .map((m) => `${m.name} ${accelerationLabel(m.defaultAcceleration)}`)
      .join(', ');
    command.addStringOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.acceleration)
        .setDescription(
          describe(
            `${accelerated.map((m) => m.name).join(', ')} only: faster, with less detail (default ${defaults})`,
            'Faster, with less detail (not every model has it)',
          ),
        )
        .addChoices(
          ...values.map((value) => ({ name: capitalized(accelerationLabel(value)), value })),
        ),
    );
  }
  return command
    .addBooleanOption((o) =>
      o
        .setName(IMAGINE_OPTIONS.safety)
        .setDescription('Safety checker (can be turned off only in age-restricted channels)'),
    )
    .toJSON();
}

/** The commands for a gateway that offers `models` (its `models` answer). */
export function commandDefinitions(
  models: readonly ModelInfo[],
): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const usage = guildCommand(COMMAND_NAMES.usage, 'Your image spend today and your limits');
  const job = guildCommand(
    COMMAND_NAMES.job,
    'Post one of your earlier images again',
  ).addStringOption((o) =>
    o
      .setName(JOB_ID_OPTION)
      .setDescription('The job (type to pick one of your recent ones, or paste its id)')
      .setRequired(true)
      .setAutocomplete(true),
  );
  const history = guildCommand(COMMAND_NAMES.history, 'Your recent images (only you see it)');
  const settings = guildCommand(COMMAND_NAMES.settings, 'Your defaults for /imagine')
    .addStringOption((o) =>
      o
        .setName(SETTINGS_OPTIONS.model)
        .setDescription('Your default model')
        .addChoices(...models.map((m) => ({ name: m.name, value: m.id }))),
    )
    .addStringOption((o) =>
      o
        .setName(SETTINGS_OPTIONS.size)
        .setDescription('Your default aspect ratio')
        .addChoices(...choices<ImageSize>(SIZE_LABELS)),
    )
    .addStringOption((o) =>
      o
        .setName(SETTINGS_OPTIONS.format)
        .setDescription('Your default file format')
        .addChoices(...choices<OutputFormat>(FORMAT_LABELS)),
    )
    .addBooleanOption((o) =>
      o.setName(SETTINGS_OPTIONS.reset).setDescription('Forget your defaults first'),
    );
  return [
    imagineCommand(models),
    usage.toJSON(),
    job.toJSON(),
    history.toJSON(),
    settings.toJSON(),
  ];
}

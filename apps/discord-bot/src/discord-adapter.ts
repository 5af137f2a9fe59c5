/**
 * discord.js wiring: read interactions, send the first response, and carry the presenter's
 * message bodies to Discord. Every decision is the service's or the presenter's; what is left
 * here is the order of calls, which is what keeps the bot inside Discord's rules:
 * the first response goes out before any other network call (3-second deadline), and a job
 * that outlives its interaction token (15 minutes) is finished through the channel instead.
 * The same message transport finishes, after a restart, the jobs an earlier run left open.
 */

import type { Acceleration, ImageSize, Model, OutputFormat, ZimageClient } from '@zimage/client';
import {
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  Client,
  DiscordAPIError,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  type ModalSubmitInteraction,
  messageLink,
  type RawFile,
  RESTJSONErrorCodes,
  Routes,
  type TextBasedChannel,
} from 'discord.js';
import type { AttachmentFile } from './attachments.ts';
import { parseButtonCustomId } from './button-custom-id.ts';
import type { Clock } from './clock.ts';
import { COMMAND_NAMES, IMAGINE_OPTIONS, JOB_ID_OPTION, SETTINGS_OPTIONS } from './commands.ts';
import type { DiscordConfig } from './config.ts';
import { EDIT_FORM_FIELDS, type EditFormAnswers } from './edit-form.ts';
import { endUserIdOf } from './end-users.ts';
import type { GatewayModels } from './gateway-models.ts';
import { historyPage, recentJobs } from './history.ts';
import { checkChannelPolicy, type ImagineOptions, type UserDefaults } from './imagine-request.ts';
import type {
  JobMessage,
  JobRunner,
  Log,
  MessageRef,
  RequestContext,
  UnfinishedJob,
} from './job-runner.ts';
import { messageRoute } from './message-route.ts';
import {
  cancelledMessage,
  detailsMessage,
  editModal,
  historyMessage,
  jobChoice,
  type MessageBody,
  problemMessage,
  settingsMessage,
  usageMessage,
} from './presenter.ts';
import { type Problem, problemOf } from './problems.ts';
import type { Admission, UserLimits } from './user-limits.ts';
import type { UserSettingsPort } from './user-settings.ts';

/** The interactions the bot answers with a message (all but autocomplete). */
type RepliableInteraction =
  | ChatInputCommandInteraction
  | ButtonInteraction
  | ModalSubmitInteraction;

/** Discord's upload limit for servers without boosts, when an interaction does not say. */
const DEFAULT_ATTACHMENT_LIMIT_BYTES = 10 * 1024 * 1024;

/** The Guilds intent is all the bot needs: interactions arrive regardless of intents. */
export function createDiscordClient(config: DiscordConfig): Client {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: config.discordApiUrl },
  });
  // Channel edits (after the interaction token expires) use the bot token; set it before login.
  client.rest.setToken(config.discordToken);
  return client;
}

export interface BotDependencies {
  client: Client;
  gateway: Pick<ZimageClient, 'job' | 'forEndUser'>;
  models: Pick<GatewayModels, 'get'>;
  runner: JobRunner;
  limits: UserLimits;
  settings: UserSettingsPort;
  clock: Clock;
  log: Log;
}

/** Starts answering interactions; returns a function that stops it. */
export function attachBot(deps: BotDependencies): () => void {
  const listener = (interaction: Interaction) => {
    handleInteraction(deps, interaction).catch((error) =>
      deps.log('error', 'interaction failed', {
        interactionId: interaction.id,
        error: String(error),
      }),
    );
  };
  deps.client.on('interactionCreate', listener);
  return () => deps.client.off('interactionCreate', listener);
}

async function handleInteraction(deps: BotDependencies, interaction: Interaction): Promise<void> {
  if (interaction.isChatInputCommand()) {
    switch (interaction.commandName) {
      case COMMAND_NAMES.imagine:
        return handleImagine(deps, interaction);
      case COMMAND_NAMES.usage:
        return handleUsage(deps, interaction);
      case COMMAND_NAMES.job:
        return handleJob(deps, interaction);
      case COMMAND_NAMES.history:
        return handleHistory(deps, interaction, 0);
      case COMMAND_NAMES.settings:
        return handleSettings(deps, interaction);
    }
  }
  if (interaction.isAutocomplete() && interaction.commandName === COMMAND_NAMES.job) {
    return handleJobAutocomplete(deps, interaction);
  }
  if (interaction.isButton()) return handleButton(deps, interaction);
  if (interaction.isModalSubmit()) return handleEditSubmit(deps, interaction);
}

function endUser(deps: BotDependencies, interaction: Interaction) {
  return deps.gateway.forEndUser(endUserIdOf(interaction.user.id));
}

async function handleImagine(
  deps: BotDependencies,
  interaction: ChatInputCommandInteraction,
): Promise<void> {
  const options = readImagineOptions(interaction);
  const channel = { ageRestricted: isAgeRestricted(interaction.channel) };
  const policy = checkChannelPolicy(options, channel);
  if (policy) return refuse(interaction, policy);
  const admission = deps.limits.admit(interaction.user.id);
  if (!admission.ok) return refuse(interaction, admission.problem);
  await deferHolding(interaction, admission.value);
  await deps.runner.imagine(
    options,
    requestContext(deps, interaction),
    admission.value,
    readDefaults(deps, interaction.user.id),
  );
}

/** The user's /settings; a store that cannot be read leaves the gateway's defaults. */
function readDefaults(deps: BotDependencies, userId: string): UserDefaults {
  try {
    return deps.settings.get(userId);
  } catch (error) {
    deps.log('warn', 'could not read user settings', { userId, error: String(error) });
    return {};
  }
}

/** The public deferral of a job; if even that fails, the request never happened for the limits. */
async function deferHolding(
  interaction: RepliableInteraction,
  admission: Admission,
): Promise<void> {
  try {
    await interaction.deferReply();
  } catch (error) {
    admission.withdraw();
    throw error;
  }
}

async function handleJob(
  deps: BotDependencies,
  interaction: ChatInputCommandInteraction,
): Promise<void> {
  await interaction.deferReply();
  await deps.runner.repost(
    interaction.options.getString(JOB_ID_OPTION, true).trim(),
    requestContext(deps, interaction),
  );
}

/** `/job id:` suggestions; autocomplete has no error message, so a failure suggests nothing. */
async function handleJobAutocomplete(
  deps: BotDependencies,
  interaction: AutocompleteInteraction,
): Promise<void> {
  const choices = await recentJobs(endUser(deps, interaction), interaction.options.getFocused())
    .then((jobs) => jobs.map(jobChoice))
    .catch((error) => {
      deps.log('warn', 'job autocomplete failed', { error: String(error) });
      return [];
    });
  await interaction.respond(choices);
}

async function handleHistory(
  deps: BotDependencies,
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  index: number,
): Promise<void> {
  // A page button edits the (private) page it sits on; the command makes a private one.
  if (interaction.isButton()) await interaction.deferUpdate();
  else await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const body = await Promise.all([
    historyPage(endUser(deps, interaction), index),
    deps.models.get(),
  ])
    .then(([page, models]) =>
      historyMessage(
        page.jobs,
        { index: page.index, hasOlder: page.hasOlder, ownerId: interaction.user.id },
        models,
      ),
    )
    .catch((error) => problemMessage(problemOf(error, deps.clock.now())));
  await editOriginal(interaction, body);
}

async function handleSettings(
  deps: BotDependencies,
  interaction: ChatInputCommandInteraction,
): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const { options, user } = interaction;
  const given: UserDefaults = {
    ...optional('model', options.getString(SETTINGS_OPTIONS.model) as Model | null),
    ...optional('size', options.getString(SETTINGS_OPTIONS.size) as ImageSize | null),
    ...optional('format', options.getString(SETTINGS_OPTIONS.format) as OutputFormat | null),
  };
  const reset = options.getBoolean(SETTINGS_OPTIONS.reset) ?? false;
  let body: MessageBody;
  try {
    if (reset) deps.settings.clear(user.id);
    const changed = reset || Object.keys(given).length > 0;
    const defaults = changed ? deps.settings.update(user.id, given) : deps.settings.get(user.id);
    const models = await deps.models.get().catch(() => []);
    body = settingsMessage(defaults, models, changed);
  } catch (error) {
    deps.log('error', 'settings failed', { userId: user.id, error: String(error) });
    body = problemMessage({ kind: 'unexpected' });
  }
  await editOriginal(interaction, body);
}

function optional<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

async function handleUsage(
  deps: BotDependencies,
  interaction: ChatInputCommandInteraction,
): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const body = await endUser(deps, interaction)
    .viewer()
    .then(
      (viewer) => usageMessage(viewer.usage),
      (error) => problemMessage(problemOf(error, deps.clock.now())),
    );
  await editOriginal(interaction, body);
}

/**
 * The time the Edit & re-roll button gives the gateway to return the job: the form must be
 * the first response, within Discord's 3 seconds, and it is filled in with the job.
 */
const EDIT_FORM_LOOKUP_MS = 2_000;

async function handleButton(deps: BotDependencies, interaction: ButtonInteraction): Promise<void> {
  const target = parseButtonCustomId(interaction.customId);
  if (!target) return refuse(interaction, { kind: 'unknown-button' });
  // Details only shows parameters; everything else spends the owner's budget, removes their
  // message or shows their jobs, so it is theirs alone. The owner is in the custom id.
  if (target.action !== 'details' && target.ownerId !== interaction.user.id) {
    return refuse(interaction, { kind: 'not-owner' });
  }
  switch (target.action) {
    case 'history':
      return handleHistory(deps, interaction, target.page);
    case 'delete':
      // For a component interaction, @original is the message the button sits on.
      await interaction.deferUpdate();
      await interaction.client.rest.delete(
        Routes.webhookMessage(interaction.applicationId, interaction.token, '@original'),
        { auth: false },
      );
      return;
    case 'details': {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const body = await Promise.all([deps.gateway.job(target.jobId), deps.models.get()]).then(
        ([job, models]) =>
          job
            ? detailsMessage(job, models)
            : problemMessage({ kind: 'job-not-found', jobId: target.jobId }),
        (error) => problemMessage(problemOf(error, deps.clock.now())),
      );
      await editOriginal(interaction, body);
      return;
    }
    case 'cancel': {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      // The job's own message turns to "cancelled" through its watch, like any other change.
      const cancelled = await deps.runner.cancelQueued(target.jobId, interaction.user.id);
      await editOriginal(
        interaction,
        cancelled.ok ? cancelledMessage(cancelled.value) : problemMessage(cancelled.problem),
      );
      return;
    }
    case 'edit': {
      const signal = AbortSignal.timeout(EDIT_FORM_LOOKUP_MS);
      const found = await Promise.all([
        endUser(deps, interaction).job(target.jobId, { signal }),
        deps.models.get(),
      ]).catch((error: unknown) => problemOf(error, deps.clock.now()));
      if (!Array.isArray(found)) return refuse(interaction, found);
      const [job, models] = found;
      if (!job) return refuse(interaction, { kind: 'job-not-found', jobId: target.jobId });
      await interaction.showModal(editModal(job, target.ownerId, models));
      return;
    }
    default: {
      const admission = deps.limits.admit(interaction.user.id);
      if (!admission.ok) return refuse(interaction, admission.problem);
      await deferHolding(interaction, admission.value);
      await deps.runner.rerun(
        target.jobId,
        target.action,
        requestContext(deps, interaction),
        admission.value,
      );
    }
  }
}

/** The Edit & re-roll form, submitted: a new job from the earlier one with the edits. */
async function handleEditSubmit(
  deps: BotDependencies,
  interaction: ModalSubmitInteraction,
): Promise<void> {
  const target = parseButtonCustomId(interaction.customId);
  if (target?.action !== 'edit') return refuse(interaction, { kind: 'unknown-button' });
  if (target.ownerId !== interaction.user.id) return refuse(interaction, { kind: 'not-owner' });
  const answers = readEditForm(interaction);
  if (!answers) return refuse(interaction, { kind: 'unknown-button' });
  const admission = deps.limits.admit(interaction.user.id);
  if (!admission.ok) return refuse(interaction, admission.problem);
  await deferHolding(interaction, admission.value);
  await deps.runner.edit(target.jobId, answers, requestContext(deps, interaction), admission.value);
}

/** The form's answers, or null for a form that is not the bot's current one (a stale client). */
function readEditForm(interaction: ModalSubmitInteraction): EditFormAnswers | null {
  const { fields } = interaction;
  try {
    return {
      prompt: fields.getTextInputValue(EDIT_FORM_FIELDS.prompt),
      model: fields.getStringSelectValues(EDIT_FORM_FIELDS.model)[0],
      size: fields.getStringSelectValues(EDIT_FORM_FIELDS.size)[0],
      steps: fields.getTextInputValue(EDIT_FORM_FIELDS.steps),
      images: fields.getTextInputValue(EDIT_FORM_FIELDS.images),
    };
  } catch {
    return null;
  }
}

async function refuse(interaction: RepliableInteraction, problem: Problem): Promise<void> {
  const { content } = problemMessage(problem);
  await interaction.reply({
    content,
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}

function readImagineOptions(interaction: ChatInputCommandInteraction): ImagineOptions {
  const { options } = interaction;
  return {
    prompt: options.getString(IMAGINE_OPTIONS.prompt, true),
    model: (options.getString(IMAGINE_OPTIONS.model) as Model | null) ?? undefined,
    size: (options.getString(IMAGINE_OPTIONS.size) as ImageSize | null) ?? undefined,
    steps: options.getInteger(IMAGINE_OPTIONS.steps) ?? undefined,
    images: options.getInteger(IMAGINE_OPTIONS.images) ?? undefined,
    format: (options.getString(IMAGINE_OPTIONS.format) as OutputFormat | null) ?? undefined,
    guidance: options.getNumber(IMAGINE_OPTIONS.guidance) ?? undefined,
    safety: options.getBoolean(IMAGINE_OPTIONS.safety) ?? undefined,
    acceleration:
      (options.getString(IMAGINE_OPTIONS.acceleration) as Acceleration | null) ?? undefined,
  };
}

/** Threads take the age restriction of their parent channel. */
function isAgeRestricted(channel: TextBasedChannel | null): boolean {
  const target = channel?.isThread() ? channel.parent : channel;
  return Boolean(target && 'nsfw' in target && target.nsfw);
}

function requestContext(deps: BotDependencies, interaction: RepliableInteraction): RequestContext {
  const ref: MessageRef = {
    applicationId: interaction.applicationId,
    token: interaction.token,
    channelId: interaction.channelId ?? '',
    guildId: interaction.guildId,
    messageId: null,
    interactionCreatedAt: interaction.createdTimestamp,
  };
  return {
    userId: interaction.user.id,
    interactionId: interaction.id,
    ageRestricted: isAgeRestricted(interaction.channel),
    attachmentLimitBytes: interaction.attachmentSizeLimit || DEFAULT_ATTACHMENT_LIMIT_BYTES,
    message: new InteractionJobMessage(interaction.client.rest, ref, deps.clock),
  };
}

/**
 * Finishes the jobs an earlier run of the bot left unfinished, each in its own message, as if
 * the bot had never stopped. Needs no Discord gateway connection: only the REST API.
 */
export function resumeUnfinished(
  deps: Pick<BotDependencies, 'client' | 'runner' | 'clock' | 'log'>,
  unfinished: readonly UnfinishedJob[],
): Promise<void> {
  return Promise.all(
    unfinished.map((entry) =>
      deps.runner
        .resume(entry, new InteractionJobMessage(deps.client.rest, entry.message, deps.clock))
        .catch((error) =>
          deps.log('error', 'resuming a job failed', { jobId: entry.jobId, error: String(error) }),
        ),
    ),
  ).then(() => undefined);
}

async function editOriginal(interaction: RepliableInteraction, body: MessageBody): Promise<void> {
  await interaction.client.rest.patch(
    Routes.webhookMessage(interaction.applicationId, interaction.token, '@original'),
    { body, auth: false },
  );
}

/** Discord takes files as multipart parts, each named in the body's `attachments`. */
function withFiles(body: MessageBody, files: readonly AttachmentFile[] = []) {
  return {
    body: files.length
      ? { ...body, attachments: files.map((file, id) => ({ id, filename: file.name })) }
      : body,
    files: files.map(
      (file, id): RawFile => ({
        key: `files[${id}]`,
        name: file.name,
        data: file.data,
        contentType: file.contentType,
      }),
    ),
  };
}

function isExpiredToken(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.InvalidWebhookToken ||
      error.code === RESTJSONErrorCodes.UnknownWebhook)
  );
}

/**
 * The message a deferred reply created. While the interaction token is valid it is edited
 * through the interaction webhook (which needs no channel permissions); afterwards, or when
 * Discord says the token is gone, through the channel with the bot's own token: the message
 * itself when an edit has told which it is, else a new one.
 */
class InteractionJobMessage implements JobMessage {
  readonly #rest: Client['rest'];
  readonly #ref: MessageRef;
  readonly #clock: Clock;

  constructor(rest: Client['rest'], ref: MessageRef, clock: Clock) {
    this.#rest = rest;
    this.#ref = { ...ref };
    this.#clock = clock;
  }

  ref(): MessageRef {
    return { ...this.#ref };
  }

  async #withFallback<T>(viaWebhook: () => Promise<T>, viaChannel: () => Promise<T>): Promise<T> {
    // Without the message's id, the webhook is the only way to its original message.
    const { messageId, interactionCreatedAt } = this.#ref;
    if (messageId !== null && messageRoute(interactionCreatedAt, this.#clock.now()) === 'channel') {
      return viaChannel();
    }
    try {
      return await viaWebhook();
    } catch (error) {
      if (!isExpiredToken(error)) throw error;
      return viaChannel();
    }
  }

  async edit(body: MessageBody, files?: readonly AttachmentFile[]): Promise<void> {
    const { applicationId, token, channelId, messageId } = this.#ref;
    const message = await this.#withFallback(
      () =>
        this.#rest.patch(Routes.webhookMessage(applicationId, token, '@original'), {
          ...withFiles(body, files),
          auth: false,
        }),
      () =>
        messageId === null
          ? this.#rest.post(Routes.channelMessages(channelId), withFiles(body, files))
          : this.#rest.patch(Routes.channelMessage(channelId, messageId), withFiles(body, files)),
    );
    this.#ref.messageId ??= (message as { id: string }).id;
  }

  async followUp(body: MessageBody): Promise<void> {
    const { applicationId, token, channelId } = this.#ref;
    await this.#withFallback(
      () => this.#rest.post(Routes.webhook(applicationId, token), { body, auth: false }),
      () => this.#rest.post(Routes.channelMessages(channelId), { body }),
    );
  }

  async retract(body: MessageBody): Promise<void> {
    const { applicationId, token } = this.#ref;
    // Delete the public "thinking…" message first: a follow-up to an untouched deferred reply
    // would replace it and inherit its (public) visibility. The user hears why either way.
    try {
      await this.#rest.delete(Routes.webhookMessage(applicationId, token, '@original'), {
        auth: false,
      });
    } finally {
      await this.#rest.post(Routes.webhook(applicationId, token), { body, auth: false });
    }
  }

  url(): string | undefined {
    const { channelId, guildId, messageId } = this.#ref;
    if (!messageId || !channelId) return undefined;
    return guildId ? messageLink(channelId, messageId, guildId) : messageLink(channelId, messageId);
  }
}

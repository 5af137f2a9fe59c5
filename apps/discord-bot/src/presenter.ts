/**
 * Job state → Discord message, as plain API bodies (what Discord's REST API takes), so the
 * same output goes to an interaction webhook or to a channel message, and snapshot tests see
 * exactly what users see. No I/O, no clock: the caller passes `now`.
 */

import type {
  Acceleration,
  ImageSize,
  Job,
  ModelInfo,
  OutputFormat,
  Usage,
  ZimageErrorCode,
} from '@zimage/client';
import {
  type APIActionRowComponent,
  type APIAllowedMentions,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
  type APIEmbedField,
  type APILabelComponent,
  type APIModalInteractionResponseCallbackData,
  type APIStringSelectComponent,
  type APITextInputComponent,
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
  MessageFlags,
  TextInputStyle,
  TimestampStyles,
  time,
  userMention,
} from 'discord.js';
import { buttonCustomId, type JobAction } from './button-custom-id.ts';
import { EDIT_FORM_FIELDS } from './edit-form.ts';
import type { UserDefaults } from './imagine-request.ts';
import type { JobProgress } from './job-progress.ts';
import type { Problem } from './problems.ts';
import { otherModel } from './rerun.ts';

export interface MessageBody {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  allowed_mentions: APIAllowedMentions;
  flags?: number;
}

export const SIZE_LABELS: Record<ImageSize, string> = {
  SQUARE_1_1: 'Square 1:1',
  PORTRAIT_3_4: 'Portrait 3:4',
  LANDSCAPE_4_3: 'Landscape 4:3',
  PORTRAIT_9_16: 'Portrait 9:16',
  LANDSCAPE_16_9: 'Landscape 16:9',
};

/** The sizes the bot offers, in the order it lists them. */
export const IMAGE_SIZES = Object.keys(SIZE_LABELS) as ImageSize[];

export const FORMAT_LABELS: Record<OutputFormat, string> = {
  PNG: 'PNG',
  JPEG: 'JPEG',
  WEBP: 'WebP',
};

/** An acceleration as people read it: `ULTRA_FAST` → `ultra fast`; the values are the models'. */
export function accelerationLabel(acceleration: Acceleration): string {
  return acceleration.toLowerCase().replaceAll('_', ' ');
}

const COLORS = { progress: 0x5865f2, done: 0x57f287, failed: 0xed4245 } as const;

/** Mentions in edited or re-posted text must never ping anyone; only the follow-up does. */
const NO_PINGS: APIAllowedMentions = { parse: [] };

// Discord's limits: 2000 characters of content, 1024 per embed field, 4096 per description.
const PROMPT_IN_CONTENT = 1500;
const PROMPT_IN_DESCRIPTION = 4000;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

function formatUsd(usd: number): string {
  // Per-image prices are fractions of a cent; two decimals would show $0.01 for $0.008.
  return `$${usd.toFixed(usd !== 0 && usd < 0.1 ? 3 : 2)}`;
}

function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  return total < 60 ? `${total} s` : `${Math.floor(total / 60)} min ${total % 60} s`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function promptText(job: Job, max: number): string {
  return escapeMarkdown(truncate(job.prompt, max));
}

/** The first line of a running job's message: what was asked, and by whom. */
function heading(job: Job, ownerId: string): string {
  return `**${promptText(job, PROMPT_IN_CONTENT)}** — ${userMention(ownerId)}`;
}

/** Small print under a running job: its id, for `/job` should this message stop moving. */
function jobIdLine(job: Job): string {
  return `-# ${job.id}`;
}

function body(parts: Partial<MessageBody> & { content: string }): MessageBody {
  return { embeds: [], components: [], allowed_mentions: NO_PINGS, ...parts };
}

function ephemeral(parts: Partial<MessageBody> & { content: string }): MessageBody {
  return body({ ...parts, flags: MessageFlags.Ephemeral });
}

// ——— Buttons ———

/** A model's name as the gateway gives it (its id, should the gateway no longer list it). */
function modelName(models: readonly ModelInfo[], id: Job['model']): string {
  return models.find((m) => m.id === id)?.name ?? id;
}

type ButtonStyleName = ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger;

/** A button under `job` for its owner; its custom id names the job (see button-custom-id.ts). */
function jobButton(
  job: Job,
  ownerId: string,
  action: JobAction,
  label: string,
  emoji: string,
  style: ButtonStyleName = ButtonStyle.Secondary,
): APIButtonComponentWithCustomId {
  return {
    type: ComponentType.Button,
    custom_id: buttonCustomId({ action, jobId: job.id, ownerId }),
    label,
    emoji: { name: emoji },
    style,
  };
}

function row(
  components: APIButtonComponentWithCustomId[],
): APIActionRowComponent<APIButtonComponentWithCustomId> {
  return { type: ComponentType.ActionRow, components };
}

/** Discord puts at most five buttons in a row: new jobs on the first, the rest on the second. */
function resultButtons(
  job: Job,
  ownerId: string,
  models: readonly ModelInfo[],
): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const button = (...args: [JobAction, string, string, ButtonStyleName?]) =>
    jobButton(job, ownerId, ...args);
  const maxImages = models.find((m) => m.id === job.model)?.maxImages;
  const other = otherModel(job, models);
  return [
    row([
      button('reroll', 'Re-roll', '🔄', ButtonStyle.Primary),
      button('edit', 'Edit & re-roll', '✏️'),
      // Vary: the same request once more, as many images as the model makes at once.
      ...(maxImages === undefined ? [] : [button('vary', `${maxImages} more`, '🔀')]),
      ...(other ? [button('switch', `Try ${other.name}`, '🔁')] : []),
    ]),
    row([button('details', 'Details', 'ℹ️'), button('delete', 'Delete', '🗑️', ButtonStyle.Danger)]),
  ];
}

/**
 * Cancel only while the job waits in the gateway's own queue (it has a position there): then
 * it is free. Once sent to Pixazo it is paid whatever happens, so no cancel is offered.
 */
export function isCancellable(job: Pick<Job, 'status' | 'queuePosition'>): boolean {
  return job.status === 'QUEUED' && job.queuePosition != null;
}

function progressButtons(
  progress: Exclude<JobProgress, { phase: 'completed' }>,
  ownerId: string,
): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const { job } = progress;
  if (progress.phase === 'queued' && isCancellable(job)) {
    return [row([jobButton(job, ownerId, 'cancel', 'Cancel (free)', '✖️', ButtonStyle.Danger)])];
  }
  if (progress.phase === 'failed' && job.status !== 'CANCELLED') {
    return [
      row([
        jobButton(job, ownerId, 'reroll', 'Retry', '🔄', ButtonStyle.Primary),
        jobButton(job, ownerId, 'edit', 'Edit & re-roll', '✏️'),
      ]),
    ];
  }
  return [];
}

// ——— Job messages ———

export interface PresentContext {
  ownerId: string;
  now: number;
  /** The gateway's models, for their names. */
  models: readonly ModelInfo[];
}

/** The message while the job runs, and when it ended without images. */
export function progressMessage(
  progress: Exclude<JobProgress, { phase: 'completed' }>,
  { ownerId, now, models }: PresentContext,
): MessageBody {
  const { job } = progress;
  const what = `${modelName(models, job.model)} · ${plural(job.numImages, 'image')}`;
  const status = ((): string => {
    switch (progress.phase) {
      case 'queued':
        return job.queuePosition == null
          ? `⏳ Queued · ${what}`
          : `⏳ Queued · position ${job.queuePosition} · ${what}`;
      case 'processing': {
        const started = `started ${time(seconds(progress.startedAt), TimestampStyles.RelativeTime)}`;
        // A relative timestamp in the past reads "x seconds ago": say something true instead.
        const eta =
          progress.etaAt > now
            ? `done ${time(seconds(progress.etaAt), TimestampStyles.RelativeTime)}`
            : 'finishing up';
        return `🎨 Generating · ${what} · ${started} · ${eta}`;
      }
      case 'failed':
        return failureLine(job);
    }
  })();
  return body({
    content: `${heading(job, ownerId)}\n${status}\n${jobIdLine(job)}`,
    components: progressButtons(progress, ownerId),
  });
}

function failureLine(job: Job): string {
  switch (job.status) {
    case 'CANCELLED':
      return job.costUsd === 0
        ? '🚫 Cancelled before it was sent. You were not charged.'
        : `🚫 Cancelled after it was sent; ${formatUsd(job.costUsd)} was charged.`;
    case 'ERROR':
      // An error after Pixazo may have taken the job keeps its charge (the gateway decides).
      return job.costUsd === 0
        ? '❌ The image service ran into an error. You were not charged; try again.'
        : `❌ The image service ran into an error; ${formatUsd(job.costUsd)} was charged as it may have run.`;
    default:
      return `❌ The image could not be made${job.error ? `: ${escapeMarkdown(truncate(job.error, 300))}` : '.'}`;
  }
}

/** The gateway stopped answering about the job; it may still finish, and /job will show it. */
export function lostTrackMessage(job: Job, ownerId: string): MessageBody {
  return body({
    content: `${heading(job, ownerId)}\n⚠️ I lost track of this job. \`/job id:${job.id}\` shows it once it is done.`,
  });
}

/** An image that could not be attached (too large even when converted), shown as a link. */
export interface LinkedImage {
  index: number;
  url: string;
}

export interface ResultContext {
  ownerId: string;
  durationMs: number;
  links: readonly LinkedImage[];
  models: readonly ModelInfo[];
}

function pixelSize(job: Job): string {
  const first = job.images[0];
  return first
    ? `${SIZE_LABELS[job.imageSize]} (${first.width}×${first.height})`
    : SIZE_LABELS[job.imageSize];
}

/** The finished job: the images go as attachments beside this body; the embed tells the story. */
export function resultMessage(job: Job, context: ResultContext): MessageBody {
  const fields: APIEmbedField[] = [
    { name: 'Model', value: modelName(context.models, job.model), inline: true },
    { name: 'Size', value: pixelSize(job), inline: true },
    { name: 'Steps', value: String(job.numInferenceSteps), inline: true },
    ...(job.guidanceScale == null
      ? []
      : [{ name: 'Guidance', value: String(job.guidanceScale), inline: true }]),
    { name: 'Cost', value: formatUsd(job.costUsd), inline: true },
    { name: 'Duration', value: formatDuration(context.durationMs), inline: true },
  ];
  const links = job.imagesExpiredAt
    ? [
        `-# 🗑️ ${job.numImages === 1 ? 'The image has' : 'The images have'} expired: the gateway's retention policy deleted ${job.numImages === 1 ? 'it' : 'them'} ${time(seconds(Date.parse(job.imagesExpiredAt)), TimestampStyles.RelativeTime)}.`,
      ]
    : context.links.map(
        ({ index, url }) => `-# [Image ${index + 1}](${url}) was too large to attach.`,
      );
  return body({
    content: userMention(context.ownerId),
    embeds: [
      {
        color: COLORS.done,
        description: [promptText(job, PROMPT_IN_DESCRIPTION), ...links].join('\n\n'),
        fields,
        footer: { text: `${job.id} · /job posts it again` },
        ...(job.completedAt ? { timestamp: job.completedAt } : {}),
      },
    ],
    components: resultButtons(job, context.ownerId, context.models),
  });
}

/** The ping after the job ends, so nobody has to watch the channel for a long job. */
export function endedMention(job: Job, ownerId: string, messageUrl: string): MessageBody {
  const outcome =
    job.status === 'COMPLETED'
      ? `your ${job.numImages === 1 ? 'image is' : 'images are'} ready`
      : 'your image could not be made';
  return {
    ...body({ content: `${userMention(ownerId)} ${outcome}: ${messageUrl}` }),
    allowed_mentions: { users: [ownerId] },
  };
}

/** Every parameter of a job, for the Details button (only the person who asked sees it). */
export function detailsMessage(job: Job, models: readonly ModelInfo[]): MessageBody {
  const fields: APIEmbedField[] = [
    { name: 'Model', value: modelName(models, job.model), inline: true },
    { name: 'Size', value: pixelSize(job), inline: true },
    { name: 'Steps', value: String(job.numInferenceSteps), inline: true },
    {
      name: 'Guidance',
      value: job.guidanceScale == null ? '—' : String(job.guidanceScale),
      inline: true,
    },
    { name: 'Images', value: String(job.numImages), inline: true },
    { name: 'Format', value: FORMAT_LABELS[job.outputFormat], inline: true },
    { name: 'Acceleration', value: accelerationLabel(job.acceleration), inline: true },
    { name: 'Safety checker', value: job.enableSafetyChecker ? 'on' : 'off', inline: true },
    { name: 'Status', value: job.status.toLowerCase(), inline: true },
    { name: 'Cost', value: formatUsd(job.costUsd), inline: true },
    {
      name: 'Created',
      value: time(seconds(Date.parse(job.createdAt)), TimestampStyles.ShortDateTime),
      inline: true,
    },
    { name: 'Job', value: `\`${job.id}\``, inline: true },
  ];
  return ephemeral({
    content: '',
    embeds: [
      {
        color: COLORS.progress,
        description: promptText(job, PROMPT_IN_DESCRIPTION),
        fields,
      },
    ],
  });
}

/** The cancel of a job that was still waiting in the gateway's queue. */
export function cancelledMessage(job: Job): MessageBody {
  return ephemeral({
    content:
      job.costUsd === 0
        ? 'Cancelled. It had not been sent yet, so you were not charged.'
        : `Cancelled; ${formatUsd(job.costUsd)} was charged.`,
  });
}

/** Discord's limits for modals: a 45-character title, 4000 characters in a text input. */
const MODAL_TITLE = 'Edit & re-roll';
const TEXT_INPUT_MAX_LENGTH = 4000;

/** The Edit & re-roll form, filled in with the earlier job's request. */
export function editModal(
  job: Job,
  ownerId: string,
  models: readonly ModelInfo[],
): APIModalInteractionResponseCallbackData {
  const promptMax = Math.min(TEXT_INPUT_MAX_LENGTH, ...models.map((m) => m.maxPromptLength));
  const steps = models.map((m) => `${m.name} ${m.minSteps}–${m.maxSteps}`).join(', ');
  const label = (
    text: string,
    component: APILabelComponent['component'],
    description?: string,
  ): APILabelComponent => ({
    type: ComponentType.Label,
    label: text,
    ...(description ? { description: truncate(description, 100) } : {}),
    component,
  });
  const select = (
    customId: string,
    options: { label: string; value: string; default: boolean }[],
  ): APIStringSelectComponent => ({
    type: ComponentType.StringSelect,
    custom_id: customId,
    options,
    min_values: 1,
    max_values: 1,
    required: true,
  });
  const number = (customId: string, value: number): APITextInputComponent => ({
    type: ComponentType.TextInput,
    custom_id: customId,
    style: TextInputStyle.Short,
    value: String(value),
    max_length: 4,
    required: false,
  });
  return {
    custom_id: buttonCustomId({ action: 'edit', jobId: job.id, ownerId }),
    title: MODAL_TITLE,
    components: [
      label('Prompt', {
        type: ComponentType.TextInput,
        custom_id: EDIT_FORM_FIELDS.prompt,
        style: TextInputStyle.Paragraph,
        value: truncate(job.prompt, promptMax),
        min_length: 1,
        max_length: promptMax,
        required: true,
      }),
      label(
        'Model',
        select(
          EDIT_FORM_FIELDS.model,
          models.map((m) => ({ label: m.name, value: m.id, default: m.id === job.model })),
        ),
        'Another model starts from its own steps and guidance',
      ),
      label(
        'Size',
        select(
          EDIT_FORM_FIELDS.size,
          IMAGE_SIZES.map((value) => ({
            label: SIZE_LABELS[value],
            value,
            default: value === job.imageSize,
          })),
        ),
      ),
      label('Steps', number(EDIT_FORM_FIELDS.steps, job.numInferenceSteps), steps),
      label(
        'Images',
        number(EDIT_FORM_FIELDS.images, job.numImages),
        `1–${Math.max(...models.map((m) => m.maxImages))}`,
      ),
    ],
  };
}

const STATUS_EMOJI: Record<Job['status'], string> = {
  QUEUED: '⏳',
  PROCESSING: '🎨',
  COMPLETED: '✅',
  FAILED: '❌',
  ERROR: '❌',
  CANCELLED: '🚫',
};

/** One page of a user's /history: their jobs, newest first, with Newer/Older buttons. */
export function historyMessage(
  jobs: readonly Job[],
  page: { index: number; hasOlder: boolean; ownerId: string },
  models: readonly ModelInfo[],
): MessageBody {
  if (jobs.length === 0 && page.index === 0) {
    return ephemeral({ content: 'You have no images yet. `/imagine` makes some.' });
  }
  const lines = jobs.map(
    (job) =>
      `${STATUS_EMOJI[job.status]} **${promptText(job, 80)}**\n-# ${modelName(models, job.model)} · ${plural(job.numImages, 'image')} · ${time(seconds(Date.parse(job.createdAt)), TimestampStyles.RelativeTime)} · \`${job.id}\``,
  );
  const nav = (label: string, emoji: string, index: number, disabled: boolean) => ({
    type: ComponentType.Button as const,
    custom_id: buttonCustomId({ action: 'history', page: index, ownerId: page.ownerId }),
    label,
    emoji: { name: emoji },
    style: ButtonStyle.Secondary as const,
    disabled,
  });
  return ephemeral({
    content: '',
    embeds: [
      {
        color: COLORS.progress,
        title: 'Your recent images',
        description: lines.join('\n') || 'Nothing older.',
        footer: { text: `Page ${page.index + 1} · /job id: posts one again` },
      },
    ],
    components: [
      row([
        // Disabled on the first page; its id must still differ from Older's.
        nav('Newer', '◀️', Math.max(0, page.index - 1), page.index === 0),
        nav('Older', '▶️', page.index + 1, !page.hasOlder),
      ]),
    ],
  });
}

/** A /job autocomplete suggestion: what the user recognises (the prompt), the id as its value. */
export function jobChoice(job: Job): { name: string; value: string } {
  // Discord's limit: 100 characters per choice name.
  return { name: truncate(`${STATUS_EMOJI[job.status]} ${job.prompt}`, 100), value: job.id };
}

/** `/settings`: the user's own defaults for /imagine, and what is used where none is set. */
export function settingsMessage(
  defaults: UserDefaults,
  models: readonly ModelInfo[],
  changed: boolean,
): MessageBody {
  const or = (value: string | undefined, fallback: string) => value ?? `${fallback} (default)`;
  return ephemeral({
    content: changed ? 'Saved. `/imagine` uses these when you leave an option out.' : '',
    embeds: [
      {
        color: COLORS.progress,
        title: 'Your /imagine defaults',
        fields: [
          {
            name: 'Model',
            value: or(
              defaults.model && modelName(models, defaults.model),
              models[0]?.name ?? 'the gateway’s',
            ),
            inline: true,
          },
          {
            name: 'Size',
            value: or(defaults.size && SIZE_LABELS[defaults.size], SIZE_LABELS.SQUARE_1_1),
            inline: true,
          },
          {
            name: 'Format',
            value: or(defaults.format && FORMAT_LABELS[defaults.format], FORMAT_LABELS.PNG),
            inline: true,
          },
        ],
        footer: { text: 'Change them with /settings; /settings reset:True clears them.' },
      },
    ],
  });
}

export function usageMessage(usage: Usage): MessageBody {
  const budget =
    usage.dailyBudgetUsd == null
      ? `${formatUsd(usage.spentTodayUsd)} today (no daily budget)`
      : `${formatUsd(usage.spentTodayUsd)} of ${formatUsd(usage.dailyBudgetUsd)} today`;
  const jobs =
    usage.maxConcurrentJobs == null
      ? `${usage.jobsInFlight} running`
      : `${usage.jobsInFlight} of ${usage.maxConcurrentJobs} running`;
  return ephemeral({
    content: '',
    embeds: [
      {
        color: COLORS.progress,
        title: 'Your image usage',
        fields: [
          { name: 'Spent', value: budget },
          { name: 'Jobs', value: jobs },
        ],
        footer: { text: 'Budgets reset daily (UTC).' },
      },
    ],
  });
}

// ——— Problems ———

const GATEWAY_MESSAGES: Partial<Record<ZimageErrorCode, string>> = {
  BUDGET_EXCEEDED:
    "You've reached your daily image budget. It resets tomorrow; /usage shows your spend.",
  INSUFFICIENT_BALANCE: "The bot's image credit has run out. Please let the server admins know.",
  UPSTREAM_UNAVAILABLE: 'The image service is unavailable right now. Please try again in a minute.',
  NETWORK_ERROR: "The image service can't be reached right now. Please try again in a minute.",
  UNAUTHENTICATED:
    "The bot's access to the image service was refused. Please let the server admins know.",
  FORBIDDEN:
    "The bot's access to the image service was refused. Please let the server admins know.",
  NOT_FOUND: 'That job no longer exists.',
};

const SOMETHING_WENT_WRONG = 'Something went wrong on our side. Please try again.';

/** A short, friendly sentence for something that stopped a request; sent ephemerally. */
export function problemMessage(problem: Problem): MessageBody {
  return ephemeral({ content: problemText(problem) });
}

function problemText(problem: Problem): string {
  switch (problem.kind) {
    case 'invalid-option':
      return `**${problem.option}**: ${problem.message}`;
    case 'safety-off-outside-age-restricted':
      return 'The safety checker can only be turned off in age-restricted channels.';
    case 'too-many-in-flight':
      return `You already have ${plural(problem.limit, 'job')} running. Wait for one to finish.`;
    case 'cooldown':
      return `Easy there! You can start another image ${time(seconds(problem.retryAt), TimestampStyles.RelativeTime)}.`;
    case 'not-owner':
      return 'Only the person who made this image can use that button.';
    case 'unknown-button':
      return 'This button no longer works. Try /imagine again.';
    case 'already-sent':
      return 'Already sent to the image service: it is paid, so it will finish and you will get the images.';
    case 'already-ended':
      return 'That job has already ended.';
    case 'job-not-found':
      return `I couldn't find a job \`${problem.jobId.replaceAll('`', '')}\` of yours.`;
    case 'unexpected':
      return SOMETHING_WENT_WRONG;
    case 'gateway':
      if (problem.code === 'RATE_LIMITED') {
        return problem.retryAt === undefined
          ? 'Too many requests right now. Please try again shortly.'
          : `Too many requests right now. Please try again ${time(seconds(problem.retryAt), TimestampStyles.RelativeTime)}.`;
      }
      if (problem.code === 'BAD_USER_INPUT') {
        const field = problem.field ? `**${problem.field}**: ` : '';
        return `${field}${problem.message ?? 'That request was not accepted.'}`;
      }
      return GATEWAY_MESSAGES[problem.code] ?? SOMETHING_WENT_WRONG;
  }
}

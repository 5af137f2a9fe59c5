import { describe, expect, it } from 'vitest';
import {
  cancelledMessage,
  detailsMessage,
  editModal,
  endedMention,
  historyMessage,
  isCancellable,
  jobChoice,
  lostTrackMessage,
  problemMessage,
  progressMessage,
  resultMessage,
  settingsMessage,
  usageMessage,
} from '../src/presenter.ts';
import type { Problem } from '../src/problems.ts';
import { BASE, completedJob, gatewayJob, MODELS, OWNER_ID, TURBO } from './helpers/fixtures.ts';

const now = Date.parse('2026-01-01T12:00:02Z');
const context = { ownerId: OWNER_ID, now, models: MODELS };

describe('job messages, one snapshot per state', () => {
  it('queued, with its position', () => {
    expect(progressMessage({ phase: 'queued', job: gatewayJob() }, context)).toMatchSnapshot();
  });

  it('queued at Pixazo (no position in the gateway queue)', () => {
    const job = gatewayJob({ queuePosition: null, numImages: 4 });
    expect(progressMessage({ phase: 'queued', job }, context).content).toMatchSnapshot();
  });

  it('processing, with elapsed time and ETA as Discord relative timestamps', () => {
    const job = gatewayJob({ status: 'PROCESSING', queuePosition: null });
    const startedAt = Date.parse('2026-01-01T12:00:01Z');
    expect(
      progressMessage({ phase: 'processing', job, startedAt, etaAt: startedAt + 3_000 }, context),
    ).toMatchSnapshot();
  });

  it('processing past its ETA', () => {
    const job = gatewayJob({ status: 'PROCESSING', queuePosition: null });
    const startedAt = Date.parse('2026-01-01T11:59:00Z');
    expect(
      progressMessage({ phase: 'processing', job, startedAt, etaAt: startedAt + 3_000 }, context)
        .content,
    ).toMatchSnapshot();
  });

  it('completed: embed with prompt, model, size, steps, cost, duration, and the buttons', () => {
    expect(
      resultMessage(completedJob(), {
        ownerId: OWNER_ID,
        durationMs: 4_500,
        links: [],
        models: MODELS,
      }),
    ).toMatchSnapshot();
  });

  it('completed on Base with four images, one of them too large to attach', () => {
    const job = completedJob({
      model: 'Z_IMAGE_BASE',
      numInferenceSteps: BASE.defaultSteps,
      guidanceScale: BASE.defaultGuidanceScale,
      numImages: BASE.maxImages,
      costUsd: BASE.priceUsdPerImage * BASE.maxImages,
    });
    expect(
      resultMessage(job, {
        ownerId: OWNER_ID,
        durationMs: 83_000,
        links: [{ index: 2, url: 'https://gw.example/images/job/3.png' }],
        models: MODELS,
      }),
    ).toMatchSnapshot();
  });

  it('completed, with its images since deleted by retention: says they expired, links nothing', () => {
    const job = completedJob({ numImages: 2, imagesExpiredAt: '2026-02-01T00:00:00.000Z' });
    const message = resultMessage(job, {
      ownerId: OWNER_ID,
      durationMs: 3_500,
      links: [],
      models: MODELS,
    });
    const description = message.embeds?.[0]?.description ?? '';
    expect(description).toContain(
      "-# 🗑️ The images have expired: the gateway's retention policy deleted them <t:1769904000:R>.",
    );
    expect(description).not.toContain('https://');
  });

  it.each([
    ['FAILED', 'NSFW content detected', TURBO.priceUsdPerImage],
    ['ERROR', 'upstream 500', 0],
    ['ERROR', 'no callback came within 60 s', TURBO.priceUsdPerImage],
    ['CANCELLED', null, 0],
    ['CANCELLED', null, TURBO.priceUsdPerImage],
  ] as const)('%s (%s, cost %s)', (status, error, costUsd) => {
    expect(
      progressMessage({ phase: 'failed', job: gatewayJob({ status, error, costUsd }) }, context)
        .content,
    ).toMatchSnapshot();
  });

  it('lost track of the job', () => {
    expect(lostTrackMessage(gatewayJob(), OWNER_ID).content).toMatchSnapshot();
  });

  it('escapes markdown in prompts and never pings from an edit', () => {
    const message = progressMessage(
      { phase: 'queued', job: gatewayJob({ prompt: '**bold** @everyone _x_' }) },
      context,
    );
    expect(message.content).toContain('\\*\\*bold\\*\\* @everyone \\_x\\_');
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });

  it('keeps a long prompt inside Discord limits', () => {
    const message = progressMessage(
      { phase: 'queued', job: gatewayJob({ prompt: 'a'.repeat(4000) }) },
      context,
    );
    expect(message.content.length).toBeLessThanOrEqual(2000);
  });
});

/** The buttons of a message, by action (the custom id's second part), with their labels. */
function buttonsOf(message: {
  components: { components: { custom_id: string; label?: string }[] }[];
}) {
  return message.components
    .flatMap((row) => row.components)
    .map((b) => [b.custom_id.split(':')[1], b.label]);
}

describe('buttons', () => {
  it('offers a free cancel only while the job waits in the gateway’s own queue', () => {
    const waiting = gatewayJob();
    expect(isCancellable(waiting)).toBe(true);
    expect(buttonsOf(progressMessage({ phase: 'queued', job: waiting }, context))).toEqual([
      ['cancel', 'Cancel (free)'],
    ]);
    // At Pixazo (no position in our queue) it is paid: no cancel, whatever its status.
    const sent = gatewayJob({ queuePosition: null, requestId: 'req_1' });
    expect(isCancellable(sent)).toBe(false);
    expect(buttonsOf(progressMessage({ phase: 'queued', job: sent }, context))).toEqual([]);
    const processing = gatewayJob({ status: 'PROCESSING', queuePosition: null });
    expect(
      buttonsOf(
        progressMessage(
          { phase: 'processing', job: processing, startedAt: now, etaAt: now },
          context,
        ),
      ),
    ).toEqual([]);
  });

  it('offers Retry and Edit & re-roll on a failed or errored job, not a cancelled one', () => {
    for (const status of ['FAILED', 'ERROR'] as const) {
      const message = progressMessage({ phase: 'failed', job: gatewayJob({ status }) }, context);
      expect(buttonsOf(message)).toEqual([
        ['reroll', 'Retry'],
        ['edit', 'Edit & re-roll'],
      ]);
    }
    const cancelled = gatewayJob({ status: 'CANCELLED', costUsd: 0 });
    expect(buttonsOf(progressMessage({ phase: 'failed', job: cancelled }, context))).toEqual([]);
  });

  it('names the vary button after what it makes: that many more of the same', () => {
    const result = resultMessage(completedJob(), {
      ownerId: OWNER_ID,
      durationMs: 1,
      links: [],
      models: MODELS,
    });
    expect(buttonsOf(result)).toEqual([
      ['reroll', 'Re-roll'],
      ['edit', 'Edit & re-roll'],
      ['vary', `${TURBO.maxImages} more`],
      ['switch', 'Try Z-Image Base'],
      ['details', 'Details'],
      ['delete', 'Delete'],
    ]);
    // Discord's limit: five buttons in a row.
    for (const row of result.components) expect(row.components.length).toBeLessThanOrEqual(5);
  });
});

describe('Edit & re-roll form', () => {
  const job = completedJob({
    model: 'Z_IMAGE_BASE',
    prompt: 'a red fox',
    imageSize: 'PORTRAIT_3_4',
    numInferenceSteps: 30,
    numImages: 2,
  });
  const modal = editModal(job, OWNER_ID, MODELS);

  it('is filled in with the earlier request', () => {
    expect(modal).toMatchSnapshot();
  });

  it('carries the job and its owner in its custom id, and fits Discord’s limits', () => {
    expect(modal.custom_id).toBe(`zimage:edit:${job.id}:${OWNER_ID}`);
    expect(modal.title.length).toBeLessThanOrEqual(45);
    expect(modal.components.length).toBeLessThanOrEqual(5);
  });
});

describe('follow-ups and ephemeral messages', () => {
  it('history: a page of jobs with Newer/Older, and the first page of nobody', () => {
    const jobs = [
      completedJob({ id: 'job_a', prompt: 'a fox' }),
      gatewayJob({ id: 'job_b', status: 'FAILED', prompt: 'a **bold** owl' }),
    ];
    const first = historyMessage(jobs, { index: 0, hasOlder: true, ownerId: OWNER_ID }, MODELS);
    expect(first).toMatchSnapshot();
    const nav = first.components[0]?.components ?? [];
    expect(nav.map((b) => [b.custom_id, 'disabled' in b && b.disabled])).toEqual([
      [`zimage:history:0:${OWNER_ID}`, true],
      [`zimage:history:1:${OWNER_ID}`, false],
    ]);
    expect(
      historyMessage([], { index: 0, hasOlder: false, ownerId: OWNER_ID }, MODELS),
    ).toMatchObject({ content: expect.stringContaining('no images yet'), flags: 64 });
  });

  it('job choices: the prompt as the name, within 100 characters, the id as the value', () => {
    const choice = jobChoice(completedJob({ prompt: 'x'.repeat(300) }));
    expect(choice.value).toBe(completedJob().id);
    expect(choice.name.length).toBeLessThanOrEqual(100);
    expect(choice.name.startsWith('✅ xxx')).toBe(true);
  });

  it('settings, with the defaults that apply where none is set', () => {
    expect(settingsMessage({ model: 'Z_IMAGE_BASE' }, MODELS, true)).toMatchSnapshot();
  });

  it('cancelled while queued: not charged', () => {
    expect(cancelledMessage(gatewayJob({ status: 'CANCELLED', costUsd: 0 })).content).toBe(
      'Cancelled. It had not been sent yet, so you were not charged.',
    );
  });

  it('pings exactly the owner when the job ends', () => {
    const mention = endedMention(
      completedJob({ numImages: 2 }),
      OWNER_ID,
      'https://discord.com/channels/1/2/3',
    );
    expect(mention).toMatchSnapshot();
    expect(mention.allowed_mentions).toEqual({ users: [OWNER_ID] });
  });

  it('details', () => {
    expect(detailsMessage(completedJob(), MODELS)).toMatchSnapshot();
  });

  it('usage, with and without limits', () => {
    expect(
      usageMessage({
        spentTodayUsd: 0.032,
        dailyBudgetUsd: 1,
        jobsInFlight: 1,
        maxConcurrentJobs: 2,
        requestsPerMinute: 10,
      }),
    ).toMatchSnapshot();
    expect(
      usageMessage({
        spentTodayUsd: 0,
        dailyBudgetUsd: null,
        jobsInFlight: 0,
        maxConcurrentJobs: null,
        requestsPerMinute: null,
      }).embeds[0]?.fields,
    ).toMatchSnapshot();
  });

  const problems: [string, Problem][] = [
    [
      'invalid option',
      {
        kind: 'invalid-option',
        option: 'steps',
        message: `Z-Image Turbo takes ${TURBO.minSteps}–${TURBO.maxSteps} steps (default ${TURBO.defaultSteps}).`,
      },
    ],
    ['safety', { kind: 'safety-off-outside-age-restricted' }],
    ['in flight', { kind: 'too-many-in-flight', limit: 2 }],
    ['cooldown', { kind: 'cooldown', retryAt: now + 5_000 }],
    ['not owner', { kind: 'not-owner' }],
    ['unknown button', { kind: 'unknown-button' }],
    ['not found', { kind: 'job-not-found', jobId: 'job_x' }],
    ['already sent', { kind: 'already-sent' }],
    ['already ended', { kind: 'already-ended' }],
    ['budget', { kind: 'gateway', code: 'BUDGET_EXCEEDED' }],
    ['rate limited', { kind: 'gateway', code: 'RATE_LIMITED', retryAt: now + 30_000 }],
    [
      'bad input',
      { kind: 'gateway', code: 'BAD_USER_INPUT', field: 'prompt', message: 'Prompt is too long' },
    ],
    ['upstream', { kind: 'gateway', code: 'UPSTREAM_UNAVAILABLE' }],
    ['balance', { kind: 'gateway', code: 'INSUFFICIENT_BALANCE' }],
    ['unreachable', { kind: 'gateway', code: 'NETWORK_ERROR' }],
    ['unexpected answer', { kind: 'gateway', code: 'UNEXPECTED_RESPONSE' }],
    ['unexpected', { kind: 'unexpected' }],
  ];
  it.each(problems)('problem: %s', (_, problem) => {
    const message = problemMessage(problem);
    expect(message.flags).toBe(64);
    expect(message.content).toMatchSnapshot();
  });
});

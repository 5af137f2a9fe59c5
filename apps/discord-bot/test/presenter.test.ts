import { describe, expect, it } from 'vitest';
import {
  detailsMessage,
  endedMention,
  lostTrackMessage,
  problemMessage,
  progressMessage,
  resultMessage,
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
    ['FAILED', 'NSFW content detected'],
    ['ERROR', 'upstream 500'],
    ['CANCELLED', null],
  ] as const)('%s', (status, error) => {
    expect(
      progressMessage({ phase: 'failed', job: gatewayJob({ status, error }) }, context).content,
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

describe('follow-ups and ephemeral messages', () => {
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

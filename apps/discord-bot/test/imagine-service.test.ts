import { describe, expect, it } from 'vitest';
import { GatewayRequestError } from '../src/gateway-client.ts';
import {
  buildGenerateInput,
  checkChannelPolicy,
  discordUserOf,
  EtaEstimator,
  JobTracker,
  messageRoute,
  problemOf,
  rerunOptions,
  ThrottledEditor,
  UserLimits,
} from '../src/imagine-service.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { completedJob, gatewayJob, MODELS, OWNER_ID } from './helpers/fixtures.ts';

const ids = { discordUserId: OWNER_ID, idempotencyKey: 'discord-interaction:1' };

describe('buildGenerateInput', () => {
  it('fills the defaults and names the Discord user as the end user', () => {
    expect(buildGenerateInput({ prompt: '  a fox  ' }, MODELS, ids)).toEqual({
      ok: true,
      value: {
        model: 'Z_IMAGE_TURBO',
        prompt: 'a fox',
        imageSize: 'SQUARE_1_1',
        numImages: 1,
        enableSafetyChecker: true,
        outputFormat: 'PNG',
        idempotencyKey: 'discord-interaction:1',
        endUserId: `discord:${OWNER_ID}`,
      },
    });
  });

  it('passes every option through', () => {
    const built = buildGenerateInput(
      {
        prompt: 'a fox',
        model: 'Z_IMAGE_BASE',
        size: 'PORTRAIT_9_16',
        steps: 40,
        images: 3,
        format: 'WEBP',
        guidance: 7.5,
        safety: false,
      },
      MODELS,
      ids,
    );
    expect(built).toMatchObject({
      ok: true,
      value: {
        model: 'Z_IMAGE_BASE',
        imageSize: 'PORTRAIT_9_16',
        numInferenceSteps: 40,
        numImages: 3,
        outputFormat: 'WEBP',
        guidanceScale: 7.5,
        enableSafetyChecker: false,
      },
    });
  });

  it.each([
    [{ prompt: 'x', steps: 60 }, 'steps', 'Z-Image Turbo takes 1–50 steps (default 8).'],
    [
      { prompt: 'x', model: 'Z_IMAGE_BASE', steps: 5 },
      'steps',
      'Z-Image Base takes 10–100 steps (default 28).',
    ],
    [
      { prompt: 'x', guidance: 4 },
      'guidance',
      'Z-Image Turbo has no guidance setting; leave it out or pick another model.',
    ],
    [
      { prompt: 'x', model: 'Z_IMAGE_BASE', guidance: 25 },
      'guidance',
      'Z-Image Base takes a guidance of 1–20.',
    ],
    [{ prompt: 'x', images: 5 }, 'images', 'Ask for 1 to 4 images.'],
    [{ prompt: '   ' }, 'prompt', 'Describe the image you want.'],
  ] as const)('refuses %o before anything is submitted', (options, option, message) => {
    expect(buildGenerateInput(options, MODELS, ids)).toEqual({
      ok: false,
      problem: { kind: 'invalid-option', option, message },
    });
  });

  it('refuses a model the gateway does not list', () => {
    const onlyTurbo = MODELS.filter((m) => m.id === 'Z_IMAGE_TURBO');
    expect(
      buildGenerateInput({ prompt: 'x', model: 'Z_IMAGE_BASE' }, onlyTurbo, ids),
    ).toMatchObject({ ok: false, problem: { option: 'model' } });
  });
});

describe('checkChannelPolicy', () => {
  it('lets the safety checker be turned off only in age-restricted channels', () => {
    expect(checkChannelPolicy({ prompt: 'x', safety: false }, { ageRestricted: false })).toEqual({
      kind: 'safety-off-outside-age-restricted',
    });
    expect(checkChannelPolicy({ prompt: 'x', safety: false }, { ageRestricted: true })).toBeNull();
    expect(checkChannelPolicy({ prompt: 'x' }, { ageRestricted: false })).toBeNull();
  });
});

describe('rerunOptions', () => {
  const base = completedJob({ model: 'Z_IMAGE_BASE', numInferenceSteps: 40, guidanceScale: 6 });

  it('re-rolls the same request', () => {
    expect(rerunOptions(base, 'reroll', MODELS)).toEqual({
      prompt: base.prompt,
      model: 'Z_IMAGE_BASE',
      size: 'SQUARE_1_1',
      steps: 40,
      images: 1,
      format: 'PNG',
      guidance: 6,
      safety: true,
    });
  });

  it('varies into four images', () => {
    expect(rerunOptions(base, 'vary', MODELS)).toMatchObject({ images: 4, steps: 40, guidance: 6 });
  });

  it("switches model with the other model's defaults", () => {
    expect(rerunOptions(base, 'switch', MODELS)).toMatchObject({
      model: 'Z_IMAGE_TURBO',
      steps: undefined,
      guidance: undefined,
      prompt: base.prompt,
    });
    expect(rerunOptions(completedJob(), 'switch', MODELS)).toMatchObject({ model: 'Z_IMAGE_BASE' });
  });
});

describe('UserLimits', () => {
  it('caps the jobs one user has in flight, and frees a place when one finishes', () => {
    const clock = new FakeClock();
    const limits = new UserLimits({ maxInFlight: 2, cooldownSeconds: 0, clock });
    const first = limits.admit('u1');
    const second = limits.admit('u1');
    expect(first.ok && second.ok).toBe(true);
    expect(limits.admit('u1')).toEqual({
      ok: false,
      problem: { kind: 'too-many-in-flight', limit: 2 },
    });
    expect(limits.admit('u2').ok).toBe(true);
    if (first.ok) first.value.finish();
    expect(limits.admit('u1').ok).toBe(true);
  });

  it('makes a user wait out the cooldown after an admitted request', async () => {
    const clock = new FakeClock();
    const limits = new UserLimits({ maxInFlight: 0, cooldownSeconds: 5, clock });
    const start = clock.now();
    expect(limits.admit('u1').ok).toBe(true);
    await clock.advance(4_999);
    expect(limits.admit('u1')).toEqual({
      ok: false,
      problem: { kind: 'cooldown', retryAt: start + 5_000 },
    });
    await clock.advance(1);
    expect(limits.admit('u1').ok).toBe(true);
  });

  it('forgets a withdrawn request entirely: no cooldown, no place taken', () => {
    const clock = new FakeClock();
    const limits = new UserLimits({ maxInFlight: 1, cooldownSeconds: 60, clock });
    const admitted = limits.admit('u1');
    if (!admitted.ok) throw new Error('not admitted');
    admitted.value.withdraw();
    admitted.value.withdraw();
    expect(limits.admit('u1').ok).toBe(true);
  });
});

describe('JobTracker', () => {
  it('follows QUEUED → PROCESSING → COMPLETED and skips what the user would not notice', async () => {
    const clock = new FakeClock();
    const tracker = new JobTracker(new EtaEstimator(), clock);
    expect(tracker.next(gatewayJob({ queuePosition: 2 }))).toMatchObject({ phase: 'queued' });
    expect(tracker.next(gatewayJob({ queuePosition: 2 }))).toBeNull();
    expect(tracker.next(gatewayJob({ queuePosition: 1 }))).toMatchObject({ phase: 'queued' });
    const started = '2026-01-01T12:00:01.000Z';
    const processing = tracker.next(
      gatewayJob({ status: 'PROCESSING', queuePosition: null, startedAt: started }),
    );
    expect(processing).toEqual({
      phase: 'processing',
      job: expect.objectContaining({ status: 'PROCESSING' }),
      startedAt: Date.parse(started),
      // Turbo prior: 300 ms per step, 8 steps, one image.
      etaAt: Date.parse(started) + 2_400,
    });
    // A late QUEUED (say, replayed after a reconnect) does not move the job backwards.
    expect(tracker.next(gatewayJob({ queuePosition: 1 }))).toBeNull();
    expect(tracker.next(completedJob())).toMatchObject({ phase: 'completed', durationMs: 4_500 });
    expect(tracker.next(completedJob())).toBeNull();
  });

  it('reports FAILED, ERROR and CANCELLED as failed', () => {
    for (const status of ['FAILED', 'ERROR', 'CANCELLED'] as const) {
      const tracker = new JobTracker(new EtaEstimator(), new FakeClock());
      expect(tracker.next(gatewayJob({ status }))).toMatchObject({ phase: 'failed' });
    }
  });
});

describe('EtaEstimator', () => {
  it('moves its estimate towards what jobs actually take', () => {
    const eta = new EtaEstimator();
    const job = gatewayJob({ numInferenceSteps: 10 });
    expect(eta.estimateMs(job)).toBe(3_000);
    eta.record(
      completedJob({
        numInferenceSteps: 10,
        startedAt: '2026-01-01T12:00:00.000Z',
        completedAt: '2026-01-01T12:00:10.000Z',
      }),
    );
    // 300 + 0.3 × (1000 − 300) = 510 ms per step.
    expect(eta.estimateMs(job)).toBe(5_100);
    expect(eta.estimateMs(gatewayJob({ numInferenceSteps: 10, numImages: 4 }))).toBe(
      Math.round(510 * 10 * 2.8),
    );
  });
});

describe('ThrottledEditor', () => {
  function editorWithLog(clock: FakeClock) {
    const sent: { value: string; at: number }[] = [];
    const editor = new ThrottledEditor<string>({
      clock,
      send: async (value) => {
        sent.push({ value, at: clock.now() });
      },
    });
    return { editor, sent };
  }

  it('sends at most one edit every 2 s, the newest state winning', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const { editor, sent } = editorWithLog(clock);
    editor.push('queued #3');
    await clock.advance(500);
    editor.push('queued #2');
    await clock.advance(500);
    editor.push('queued #1');
    await clock.advance(999);
    expect(sent).toEqual([{ value: 'queued #3', at: t0 }]);
    await clock.advance(1);
    expect(sent).toEqual([
      { value: 'queued #3', at: t0 },
      { value: 'queued #1', at: t0 + 2_000 },
    ]);
  });

  it('always sends the final state, last, after the interval', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const { editor, sent } = editorWithLog(clock);
    editor.push('processing');
    await clock.advance(100);
    let finished = false;
    const done = editor.finish('completed').then(() => {
      finished = true;
    });
    editor.push('too late');
    await clock.advance(1_000);
    expect(finished).toBe(false);
    await clock.advance(900);
    await done;
    expect(sent).toEqual([
      { value: 'processing', at: t0 },
      { value: 'completed', at: t0 + 2_000 },
    ]);
  });

  it('waits for a slow edit before the next, so edits never overtake each other', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    let release: () => void = () => {};
    const editor = new ThrottledEditor<string>({
      clock,
      send: (value) => {
        order.push(`start ${value}`);
        return value === 'first'
          ? new Promise<void>((resolve) => {
              release = () => {
                order.push('end first');
                resolve();
              };
            })
          : Promise.resolve();
      },
    });
    editor.push('first');
    const done = editor.finish('final');
    await clock.advance(5_000);
    expect(order).toEqual(['start first']);
    release();
    await clock.advance(0);
    await done;
    expect(order).toEqual(['start first', 'end first', 'start final']);
  });

  it('keeps going after a failed edit', async () => {
    const clock = new FakeClock();
    const sent: string[] = [];
    const editor = new ThrottledEditor<string>({
      clock,
      send: async (value) => {
        if (value === 'boom') throw new Error('Discord said no');
        sent.push(value);
      },
    });
    editor.push('boom');
    const done = editor.finish('final');
    await clock.advance(2_000);
    await done;
    expect(sent).toEqual(['final']);
  });
});

describe('messageRoute', () => {
  it('uses the interaction token for its first 14 minutes, the channel afterwards', () => {
    const created = Date.parse('2026-01-01T12:00:00Z');
    expect(messageRoute(created, created + 13 * 60_000)).toBe('interaction');
    expect(messageRoute(created, created + 14 * 60_000)).toBe('channel');
    expect(messageRoute(created, created + 60 * 60_000)).toBe('channel');
  });
});

describe('problemOf', () => {
  it('turns gateway errors into problems, with the retry time for RATE_LIMITED', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(
      problemOf(
        new GatewayRequestError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 30 }),
        now,
      ),
    ).toEqual({
      kind: 'gateway',
      code: 'RATE_LIMITED',
      message: 'slow down',
      field: undefined,
      retryAt: now + 30_000,
    });
    expect(problemOf(new Error('boom'), now)).toEqual({ kind: 'gateway', code: 'INTERNAL' });
  });
});

describe('discordUserOf', () => {
  it('reads the Discord user back from the end user id', () => {
    expect(discordUserOf({ endUserId: `discord:${OWNER_ID}` })).toBe(OWNER_ID);
    expect(discordUserOf({ endUserId: 'web:alice' })).toBeNull();
    expect(discordUserOf({ endUserId: null })).toBeNull();
  });
});

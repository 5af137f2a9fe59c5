import { type GenerateInput, type Job, ZimageError } from '@zimage/client';
import { isTerminalStatus } from '@zimage/contract';
import { describe, expect, it } from 'vitest';
import type { AttachmentFile, ImageSource } from '../src/attachments.ts';
import { GatewayModels } from '../src/gateway-models.ts';
import {
  type GatewayPort,
  type JobMessage,
  JobRunner,
  type MessageRef,
  type UnfinishedJob,
  type UnfinishedJobsPort,
} from '../src/job-runner.ts';
import type { MessageBody } from '../src/presenter.ts';
import type { Admission } from '../src/user-limits.ts';
import { FakeClock, settle } from './helpers/fake-clock.ts';
import { BASE, completedJob, gatewayJob, MODELS, OWNER_ID } from './helpers/fixtures.ts';

/** A gateway whose job updates the test pushes one by one. */
class ScriptedGateway implements GatewayPort {
  generated: (GenerateInput & { endUserId: string })[] = [];
  cancelled: string[] = [];
  refuseWith: ZimageError | undefined;
  /** Jobs by id, with the end user they belong to. */
  jobs = new Map<string, Job>();
  #updates: (Job | Error)[] = [];
  #wake: (() => void) | undefined;

  forEndUser(endUserId: string) {
    return {
      generate: async (input: GenerateInput) => {
        if (this.refuseWith) throw this.refuseWith;
        this.generated.push({ ...input, endUserId });
        return gatewayJob();
      },
      job: async (id: string) => {
        const job = this.jobs.get(id);
        return job && job.endUserId === endUserId ? job : null;
      },
      watch: (_id: string) => this.#watch(),
      cancel: async (id: string) => {
        this.cancelled.push(id);
        return gatewayJob({ id, status: 'CANCELLED', queuePosition: null, costUsd: 0 });
      },
    };
  }

  async *#watch(): AsyncGenerator<Job, void, undefined> {
    for (;;) {
      const next = this.#updates.shift();
      if (next instanceof Error) throw next;
      if (next) {
        yield next;
        if (isTerminalStatus(next.status)) return;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  update(job: Job | Error) {
    this.#updates.push(job);
    this.#wake?.();
  }
}

class RecordingMessage implements JobMessage {
  edits: { body: MessageBody; files: readonly AttachmentFile[] | undefined; at: number }[] = [];
  followUps: MessageBody[] = [];
  retracted: MessageBody[] = [];
  readonly clock: FakeClock;
  readonly #ref: MessageRef = {
    applicationId: '1400000000000000001',
    token: 'interaction-token',
    channelId: '1400000000000000003',
    guildId: '1400000000000000002',
    messageId: null,
    interactionCreatedAt: Date.parse('2026-01-01T12:00:00Z'),
  };
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  async edit(body: MessageBody, files?: readonly AttachmentFile[]) {
    this.edits.push({ body, files, at: this.clock.now() });
    this.#ref.messageId ??= '1400000000000000099';
  }
  async followUp(body: MessageBody) {
    this.followUps.push(body);
  }
  async retract(body: MessageBody) {
    this.retracted.push(body);
  }
  url() {
    return this.edits.length ? 'https://discord.com/channels/1/2/3' : undefined;
  }
  ref() {
    return { ...this.#ref };
  }
}

/** The unfinished-jobs record, in memory, with every change it saw. */
class RecordedUnfinished implements UnfinishedJobsPort {
  readonly entries = new Map<string, UnfinishedJob>();
  readonly changes: string[] = [];
  save(job: UnfinishedJob) {
    this.entries.set(job.interactionId, job);
    this.changes.push(`save ${job.jobId} message ${job.message.messageId}`);
  }
  remove(interactionId: string) {
    const removed = this.entries.get(interactionId);
    this.entries.delete(interactionId);
    if (removed) this.changes.push(`remove ${removed.jobId}`);
  }
}

function setup(options: { downloadImage?: ImageSource } = {}) {
  const clock = new FakeClock();
  const gateway = new ScriptedGateway();
  const message = new RecordingMessage(clock);
  const unfinished = new RecordedUnfinished();
  const log: string[] = [];
  const runner = new JobRunner({
    gateway,
    models: new GatewayModels({ fetch: async () => MODELS, clock }),
    downloadImage: options.downloadImage ?? (async () => Buffer.from('png bytes')),
    unfinished,
    clock,
    log: (level, text) => log.push(`${level} ${text}`),
  });
  const admission = { finished: 0, withdrawn: 0 };
  const ticket: Admission = {
    finish: () => void admission.finished++,
    withdraw: () => void admission.withdrawn++,
  };
  const context = {
    userId: OWNER_ID,
    interactionId: '999',
    ageRestricted: false,
    attachmentLimitBytes: 10 * 1024 * 1024,
    message,
  };
  return { clock, gateway, message, unfinished, runner, admission, ticket, context, log };
}

describe('JobRunner', () => {
  it('follows a job to its result: throttled edits, attachments, then a ping', async () => {
    const { clock, gateway, message, runner, admission, ticket, context } = setup();
    const t0 = clock.now();
    const done = runner.imagine({ prompt: 'a lighthouse' }, context, ticket);
    await settle();
    expect(gateway.generated).toEqual([
      expect.objectContaining({
        prompt: 'a lighthouse',
        endUserId: `discord:${OWNER_ID}`,
        idempotencyKey: 'discord-interaction:999',
      }),
    ]);

    gateway.update(gatewayJob({ queuePosition: 2 }));
    await clock.advance(500);
    gateway.update(gatewayJob({ queuePosition: 1 }));
    await clock.advance(500);
    gateway.update(
      gatewayJob({
        status: 'PROCESSING',
        queuePosition: null,
        startedAt: new Date(clock.now()).toISOString(),
      }),
    );
    await clock.advance(1_500);
    gateway.update(completedJob());
    await clock.advance(2_000);
    await done;

    // Position 1 was superseded within the 2 s window and never shown.
    expect(
      message.edits.map((e) => [e.at - t0, e.body.content.split('\n')[1] ?? 'result']),
    ).toEqual([
      [0, '⏳ Queued · position 2 · Z-Image Turbo · 1 image'],
      [2_000, expect.stringMatching(/^🎨 Generating/)],
      [4_000, 'result'],
    ]);
    const final = message.edits.at(-1);
    expect(final?.files?.map((f) => f.name)).toEqual([`${completedJob().id}-1.png`]);
    expect(final?.body.components.flatMap((r) => r.components)).toHaveLength(6);
    expect(message.followUps).toEqual([
      expect.objectContaining({ allowed_mentions: { users: [OWNER_ID] } }),
    ]);
    expect(admission).toEqual({ finished: 1, withdrawn: 0 });
  });

  it('says "finishing up" once the ETA has passed without news', async () => {
    const { clock, gateway, message, runner, ticket, context } = setup();
    const done = runner.imagine({ prompt: 'x' }, context, ticket);
    await settle();
    gateway.update(
      gatewayJob({
        status: 'PROCESSING',
        queuePosition: null,
        startedAt: new Date(clock.now()).toISOString(),
      }),
    );
    await clock.advance(10_000);
    const statusLines = message.edits.map((e) => e.body.content.split('\n')[1]);
    expect(statusLines.map((line) => line?.split(' · ').at(-1))).toEqual([
      '1 image',
      expect.stringMatching(/^done <t:\d+:R>$/),
      'finishing up',
    ]);
    gateway.update(completedJob());
    await clock.advance(2_000);
    await done;
  });

  it('turns a gateway refusal into a private message and forgets the request', async () => {
    const { gateway, message, runner, admission, ticket, context } = setup();
    gateway.refuseWith = new ZimageError('BUDGET_EXCEEDED', 'Daily budget exceeded');
    await runner.imagine({ prompt: 'x' }, context, ticket);
    expect(message.retracted).toEqual([
      expect.objectContaining({ content: expect.stringMatching(/daily image budget/), flags: 64 }),
    ]);
    expect(message.edits).toEqual([]);
    expect(admission).toEqual({ finished: 0, withdrawn: 1 });
  });

  it('checks options against the models before submitting anything', async () => {
    const { gateway, message, runner, admission, ticket, context } = setup();
    await runner.imagine({ prompt: 'x', steps: 500 }, context, ticket);
    expect(gateway.generated).toEqual([]);
    expect(message.retracted[0]?.content).toMatch(
      /^\*\*steps\*\*: Z-Image Turbo takes \d+–\d+ steps/,
    );
    expect(admission.withdrawn).toBe(1);
  });

  it('re-rolls only the user’s own jobs', async () => {
    const { gateway, message, runner, ticket, context } = setup();
    const theirs = completedJob({ id: 'job_theirs', endUserId: 'discord:222222222222222222' });
    gateway.jobs.set(theirs.id, theirs);
    await runner.rerun(theirs.id, 'reroll', context, ticket);
    expect(gateway.generated).toEqual([]);
    expect(message.retracted[0]?.content).toMatch(/couldn't find a job `job_theirs`/);
  });

  it('varies a job into as many images of the same request as its model makes', async () => {
    const { clock, gateway, runner, ticket, context } = setup();
    const mine = completedJob({ model: 'Z_IMAGE_BASE', numInferenceSteps: 30, guidanceScale: 5 });
    gateway.jobs.set(mine.id, mine);
    const done = runner.rerun(mine.id, 'vary', context, ticket);
    await settle();
    expect(gateway.generated[0]).toMatchObject({
      model: 'Z_IMAGE_BASE',
      numInferenceSteps: 30,
      guidanceScale: 5,
      numImages: BASE.maxImages,
      prompt: mine.prompt,
    });
    gateway.update(completedJob());
    await clock.advance(2_000);
    await done;
  });

  it('edit & re-roll submits the earlier request with the form’s edits', async () => {
    const { clock, gateway, runner, ticket, context } = setup();
    const mine = completedJob({ model: 'Z_IMAGE_BASE', numInferenceSteps: 30, guidanceScale: 5 });
    gateway.jobs.set(mine.id, mine);
    const answers = {
      prompt: 'a blue fox',
      model: 'Z_IMAGE_BASE',
      size: 'PORTRAIT_3_4',
      steps: '',
      images: '2',
    };
    const done = runner.edit(mine.id, answers, context, ticket);
    await settle();
    expect(gateway.generated[0]).toMatchObject({
      prompt: 'a blue fox',
      model: 'Z_IMAGE_BASE',
      imageSize: 'PORTRAIT_3_4',
      numInferenceSteps: 30,
      guidanceScale: 5,
      numImages: 2,
    });
    gateway.update(completedJob());
    await clock.advance(2_000);
    await done;
  });

  it('edit & re-roll refuses a bad answer privately, naming the field, and submits nothing', async () => {
    const { gateway, message, runner, admission, ticket, context } = setup();
    gateway.jobs.set(completedJob().id, completedJob());
    const answers = {
      prompt: 'x',
      model: 'Z_IMAGE_TURBO',
      size: 'SQUARE_1_1',
      steps: 'many',
      images: '',
    };
    await runner.edit(completedJob().id, answers, context, ticket);
    expect(gateway.generated).toEqual([]);
    expect(message.retracted[0]?.content).toBe('**steps**: Enter a whole number.');
    expect(admission.withdrawn).toBe(1);
  });

  it('cancels a job only while it waits in the gateway’s own queue', async () => {
    const { gateway, runner } = setup();
    const waiting = gatewayJob({ id: 'job_waiting', endUserId: `discord:${OWNER_ID}` });
    const sent = gatewayJob({ id: 'job_sent', queuePosition: null, requestId: 'req_1' });
    const ended = completedJob({ id: 'job_ended' });
    for (const job of [waiting, sent, ended]) gateway.jobs.set(job.id, job);

    expect(await runner.cancelQueued(waiting.id, OWNER_ID)).toMatchObject({
      ok: true,
      value: { status: 'CANCELLED', costUsd: 0 },
    });
    expect(await runner.cancelQueued(sent.id, OWNER_ID)).toEqual({
      ok: false,
      problem: { kind: 'already-sent' },
    });
    expect(await runner.cancelQueued(ended.id, OWNER_ID)).toEqual({
      ok: false,
      problem: { kind: 'already-ended' },
    });
    expect(await runner.cancelQueued(waiting.id, '222222222222222222')).toEqual({
      ok: false,
      problem: { kind: 'job-not-found', jobId: waiting.id },
    });
    // Only the job still in the gateway's queue was cancelled: the paid one is left to deliver.
    expect(gateway.cancelled).toEqual([waiting.id]);
  });

  it('applies the user’s defaults to the options they left out', async () => {
    const { clock, gateway, runner, ticket, context } = setup();
    const done = runner.imagine({ prompt: 'x', format: 'PNG' }, context, ticket, {
      model: 'Z_IMAGE_BASE',
      size: 'LANDSCAPE_16_9',
      format: 'WEBP',
    });
    await settle();
    expect(gateway.generated[0]).toMatchObject({
      model: 'Z_IMAGE_BASE',
      imageSize: 'LANDSCAPE_16_9',
      outputFormat: 'PNG',
    });
    gateway.update(completedJob());
    await clock.advance(2_000);
    await done;
  });

  it('re-posts a finished job without pinging anyone', async () => {
    const { clock, gateway, message, runner, context } = setup();
    gateway.jobs.set(completedJob().id, completedJob());
    gateway.update(completedJob());
    const done = runner.repost(completedJob().id, context);
    await clock.advance(0);
    await done;
    expect(message.edits).toHaveLength(1);
    expect(message.edits[0]?.files).toHaveLength(1);
    expect(message.followUps).toEqual([]);
  });

  it('re-posts a job whose images expired without downloading them, saying they expired', async () => {
    let downloads = 0;
    const { clock, gateway, message, runner, context } = setup({
      downloadImage: async () => {
        downloads++;
        return Buffer.from('png bytes');
      },
    });
    const expired = completedJob({ imagesExpiredAt: '2026-02-01T00:00:00.000Z' });
    gateway.jobs.set(expired.id, expired);
    gateway.update(expired);
    const done = runner.repost(expired.id, context);
    await clock.advance(0);
    await done;
    expect(downloads).toBe(0);
    expect(message.edits).toHaveLength(1);
    expect(message.edits[0]?.files).toEqual([]);
    expect(message.edits[0]?.body.embeds?.[0]?.description).toMatch(/The image has expired/);
  });

  it('re-posts an unfiltered job only in an age-restricted channel', async () => {
    const { gateway, message, runner, context } = setup();
    const unfiltered = completedJob({ enableSafetyChecker: false });
    gateway.jobs.set(unfiltered.id, unfiltered);
    await runner.repost(unfiltered.id, context);
    expect(message.edits).toEqual([]);
    expect(message.retracted[0]?.content).toBe(
      'The safety checker can only be turned off in age-restricted channels.',
    );
  });

  it('says so when it loses track of a job', async () => {
    const { clock, gateway, message, runner, ticket, context, log } = setup();
    const done = runner.imagine({ prompt: 'x' }, context, ticket);
    await settle();
    gateway.update(gatewayJob());
    gateway.update(new ZimageError('FORBIDDEN', 'key revoked'));
    await clock.advance(2_000);
    await done;
    expect(message.edits.at(-1)?.body.content).toMatch(/I lost track of this job/);
    expect(log).toContain('error lost track of job');
  });

  it('notes the job as unfinished until its message is final, with the message once known', async () => {
    const { clock, gateway, unfinished, runner, ticket, context } = setup();
    const done = runner.imagine({ prompt: 'x' }, context, ticket);
    await settle();
    expect([...unfinished.entries.values()]).toEqual([
      {
        interactionId: '999',
        jobId: gatewayJob().id,
        userId: OWNER_ID,
        pingWhenDone: true,
        attachmentLimitBytes: context.attachmentLimitBytes,
        message: context.message.ref(),
      },
    ]);
    gateway.update(completedJob());
    await clock.advance(2_000);
    await done;
    expect(unfinished.changes).toEqual([
      `save ${gatewayJob().id} message null`,
      `save ${gatewayJob().id} message 1400000000000000099`,
      `remove ${gatewayJob().id}`,
    ]);
  });

  it('notes nothing for a job that has already ended', async () => {
    const { clock, gateway, unfinished, runner, context } = setup();
    gateway.jobs.set(completedJob().id, completedJob());
    const done = runner.repost(completedJob().id, context);
    await clock.advance(0);
    await done;
    expect(unfinished.changes).toEqual([]);
  });
});

describe('JobRunner.resume', () => {
  const entry = (message: RecordingMessage): UnfinishedJob => ({
    interactionId: '777',
    jobId: gatewayJob().id,
    userId: OWNER_ID,
    pingWhenDone: true,
    attachmentLimitBytes: 10 * 1024 * 1024,
    message: message.ref(),
  });

  it('finishes a job noted by an earlier run: its current state, the result, the ping', async () => {
    const { clock, gateway, message, unfinished, runner } = setup();
    unfinished.save(entry(message));
    gateway.update(gatewayJob({ status: 'PROCESSING', queuePosition: null }));
    const done = runner.resume(entry(message), message);
    await settle();
    expect(message.edits.map((e) => e.body.content.split('\n')[1])).toEqual([
      expect.stringMatching(/^🎨 Generating/),
    ]);
    gateway.update(completedJob());
    await clock.advance(2_000);
    await done;
    expect(message.edits.at(-1)?.files).toHaveLength(1);
    expect(message.edits.at(-1)?.body.content).toBe(`<@${OWNER_ID}>`);
    expect(message.followUps).toEqual([
      expect.objectContaining({ allowed_mentions: { users: [OWNER_ID] } }),
    ]);
    expect(unfinished.entries.size).toBe(0);
  });

  it('drops the note of a job the gateway no longer shows, and keeps it otherwise', async () => {
    const { gateway, message, unfinished, runner, log } = setup();
    unfinished.save(entry(message));
    gateway.update(new ZimageError('NETWORK_ERROR', 'gateway down'));
    await runner.resume(entry(message), message);
    expect(unfinished.entries.size).toBe(1);
    gateway.update(new ZimageError('NOT_FOUND', 'No job'));
    await runner.resume(entry(message), message);
    expect(unfinished.entries.size).toBe(0);
    expect(message.edits).toEqual([]);
    expect(log.filter((line) => line === 'error could not resume a job')).toHaveLength(2);
  });
});

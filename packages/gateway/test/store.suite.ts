/**
 * The scenarios every Store must pass, whatever database is behind it. An adapter's test
 * calls `describeStoreSuite` with a way to open an empty store, and one to open several
 * connections on one database for the admissions that must hold at the same time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../src/auth/api-keys.ts';
import type { AdmissionResult } from '../src/domain/admission.ts';
import type { AuditAction, AuditRecord } from '../src/domain/audit.ts';
import type { JobRecord } from '../src/domain/job.ts';
import type { ApiKeyRecord, KeyLimits, Limits } from '../src/domain/principal.ts';
import { newId } from '../src/ids.ts';
import {
  MAX_JOBS_PAGE_SIZE,
  type Store,
  type StoreOptions,
  type UsageGroup,
} from '../src/store/store.ts';
import { DAY, newJob, newKey, storedKey } from './fixtures/records.ts';

/** An audit entry by the keys CLI about `apiKeyId`. */
const auditOf = (
  action: AuditAction,
  apiKeyId: string,
  details: Record<string, unknown> = {},
): AuditRecord => ({
  id: newId('audit'),
  at: new Date('2025-06-01T12:00:00.000Z'),
  action,
  actor: { keyId: null, label: 'keys CLI (test@host)' },
  apiKeyId,
  details,
});

const limits = (overrides: Partial<KeyLimits>): KeyLimits => ({ ...NO_LIMITS, ...overrides });
const userLimits = (overrides: Partial<Limits>): Limits => ({
  dailyBudgetMicroUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
  ...overrides,
});

/** Several stores on one new, empty database. */
export interface StoreConnections {
  stores: Store[];
  close(): Promise<void>;
}

export interface StoreAdapter {
  /** An empty store. */
  open(options?: StoreOptions): Store | Promise<Store>;
  /**
   * `count` stores on one new database that really run at the same time: each on its own
   * connection (and, for a driver whose calls block, its own thread), so that nothing but the
   * database's own atomicity keeps two admissions from both squeezing under a limit.
   */
  openConnections(count: number): Promise<StoreConnections>;
}

/** Connections the simultaneous admissions are spread over. */
const CONNECTIONS = 4;

export function describeStoreSuite(name: string, adapter: StoreAdapter): void {
  describe(`Store: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await adapter.open();
    });

    afterEach(async () => {
      await store.close();
    });

    /** Admits with the key's own limits (and its end-user limits when the job has an end user). */
    const admit = (key: ApiKeyRecord, job: JobRecord, day = DAY): Promise<AdmissionResult> =>
      store.admitJob({
        job,
        day,
        keyLimits: key.limits,
        endUserLimits: job.endUserId === null ? null : key.endUserLimits,
      });

    const admitted = async (key: ApiKeyRecord, job: JobRecord): Promise<JobRecord> => {
      const result = await admit(key, job);
      if (result.kind !== 'created') throw new Error(`expected created, got ${result.kind}`);
      return result.job;
    };

    describe('jobs', () => {
      it('round-trips every field, nulls included', async () => {
        const key = await storedKey(store);
        const full = newJob(key, {
          endUserId: 'discord:1234',
          idempotencyKey: 'idem-1',
          model: 'base',
          prompt: 'Ünïcode prompt — "quotes" and \\ backslash',
          imageSize: 'landscape_16_9',
          numInferenceSteps: 28,
          guidanceScale: 4.5,
          numImages: 2,
          enableSafetyChecker: false,
          outputFormat: 'webp',
          acceleration: 'ultra_fast',
          status: 'COMPLETED',
          submission: 'submitted',
          requestId: 'z-image-base_0190',
          webhookTokenHash: 'ab'.repeat(32),
          error: 'none, really',
          costMicroUsd: 20000,
          images: [
            {
              fileName: 'a1.webp',
              width: 1024,
              height: 576,
              contentType: 'image/webp',
              byteLength: 1,
            },
            {
              fileName: 'b2.webp',
              width: 1024,
              height: 576,
              contentType: 'image/webp',
              byteLength: 99,
            },
          ],
          version: 7,
          createdAt: new Date('2025-06-01T10:00:00.123Z'),
          updatedAt: new Date('2025-06-01T10:00:09.456Z'),
          startedAt: new Date('2025-06-01T10:00:01.789Z'),
          completedAt: new Date('2025-06-01T10:00:09.001Z'),
        });
        const bare = newJob(key);

        expect(await admit(key, full)).toEqual({ kind: 'created', job: full });
        expect(await admit(key, bare)).toEqual({ kind: 'created', job: bare });
        expect(await store.getJob(full.id)).toEqual(full);
        expect(await store.getJob(bare.id)).toEqual(bare);
        expect(await store.getJob('job_missing')).toBeNull();
      });

      it('applies a patch of every field and bumps the version', async () => {
        const key = await storedKey(store);
        const job = await admitted(key, newJob(key));
        const patch = {
          status: 'PROCESSING',
          submission: 'submitted',
          requestId: 'z-image-turbo-834_01',
          webhookTokenHash: 'cd'.repeat(32),
          error: 'transient',
          costMicroUsd: 8000,
          images: [
            {
              fileName: 'x.png',
              width: 1024,
              height: 1024,
              contentType: 'image/png',
              byteLength: 5,
            },
          ],
          startedAt: new Date('2025-06-01T10:00:02.000Z'),
          completedAt: new Date('2025-06-01T10:00:03.000Z'),
        } as const;

        const updated = await store.updateJob(job.id, 1, { ...patch, images: [...patch.images] });
        expect(updated).toEqual({ ...job, ...patch, version: 2, updatedAt: expect.any(Date) });
        expect(await store.getJob(job.id)).toEqual(updated);

        const cleared = await store.updateJob(job.id, 2, {
          error: null,
          requestId: null,
          startedAt: null,
          completedAt: null,
        });
        expect(cleared).toMatchObject({
          error: null,
          requestId: null,
          startedAt: null,
          version: 3,
        });
        expect(cleared?.completedAt).toBeNull();
        expect(cleared?.status).toBe('PROCESSING');
      });

      it('compares and sets on the version', async () => {
        const key = await storedKey(store);
        const job = await admitted(key, newJob(key));

        expect(await store.updateJob(job.id, 2, { status: 'PROCESSING' })).toBeNull();
        const first = await store.updateJob(job.id, 1, { status: 'PROCESSING' });
        expect(first?.version).toBe(2);
        // A second writer that read version 1 loses, and changes nothing.
        expect(await store.updateJob(job.id, 1, { status: 'FAILED' })).toBeNull();
        expect((await store.getJob(job.id))?.status).toBe('PROCESSING');
        expect(await store.updateJob('job_missing', 1, { status: 'FAILED' })).toBeNull();
      });

      it('counts the pending jobs', async () => {
        const key = await storedKey(store);
        await admitted(key, newJob(key));
        await admitted(key, newJob(key, { submission: 'submitting' }));
        await admitted(key, newJob(key, { status: 'PROCESSING', submission: 'submitted' }));
        await admitted(key, newJob(key));
        for (const status of ['COMPLETED', 'FAILED', 'ERROR', 'CANCELLED'] as const) {
          await admitted(key, newJob(key, { status }));
        }
        expect(await store.countPendingJobs()).toBe(2);
      });
    });

    describe('dispatch', () => {
      const claim = (instanceId: string, maxInFlight: number, limit = maxInFlight) =>
        store.claimPendingJobs({ instanceId, maxInFlight, limit });
      const ids = (jobs: (JobRecord | null)[]) => jobs.map((j) => j?.id);

      it('claims the oldest pending jobs up to the cap on jobs at Pixazo, and marks them submitting', async () => {
        const key = await storedKey(store);
        await admitted(key, newJob(key, { status: 'PROCESSING', submission: 'submitted' }));
        await admitted(key, newJob(key, { status: 'COMPLETED', submission: 'submitted' }));
        const pending = [];
        for (let i = 0; i < 4; i++) pending.push(await admitted(key, newJob(key)));

        const first = await claim('inst_a', 3);
        expect(ids(first)).toEqual(ids(pending.slice(0, 2)));
        expect(first[0]).toMatchObject({ submission: 'submitting', version: 2 });
        expect(await claim('inst_b', 3)).toEqual([]);
        expect(await store.queuePosition(pending[2]?.id as string)).toBe(1);

        // A job that ends frees its place under the cap, whoever ended it.
        const ended = first[0] as JobRecord;
        await store.updateJob(ended.id, ended.version, { status: 'ERROR' });
        expect(ids(await claim('inst_b', 3))).toEqual([pending[2]?.id]);
        expect(ids(await claim('inst_b', 9, 0))).toEqual([]);
        expect(ids(await claim('inst_b', 9, 5))).toEqual([pending[3]?.id]);
      });

      it('holds the cap exactly when many claims run at once', async () => {
        const key = await storedKey(store);
        for (let i = 0; i < 12; i++) await admitted(key, newJob(key));
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) => claim(`inst_${i % 3}`, 5, 2)),
        );
        const claimed = claims.flat().map((job) => job.id);
        expect(claimed).toHaveLength(5);
        expect(new Set(claimed).size).toBe(5);
        expect(await store.countPendingJobs()).toBe(7);
      });

      it('never lets a claimed job become pending again', async () => {
        const key = await storedKey(store);
        await admitted(key, newJob(key));
        const [claimed] = await claim('inst_a', 1);
        await expect(
          store.updateJob(claimed?.id as string, claimed?.version as number, {
            submission: 'pending',
          }),
        ).rejects.toThrow(/pending again/);
      });

      it('gives queue positions and lists the queue oldest first', async () => {
        const key = await storedKey(store);
        const jobs = [];
        for (let i = 0; i < 3; i++) jobs.push(await admitted(key, newJob(key)));
        const sent = await admitted(key, newJob(key, { submission: 'submitted' }));
        const positions = await Promise.all(jobs.map((job) => store.queuePosition(job.id)));
        expect(positions).toEqual([1, 2, 3]);
        expect(await store.queuePosition(sent.id)).toBeNull();
        expect(await store.queuePosition('job_missing')).toBeNull();
        expect(ids(await store.listPendingJobs(2))).toEqual(ids(jobs.slice(0, 2)));
        const [first] = jobs;
        await store.updateJob(first?.id as string, 1, { status: 'CANCELLED' });
        expect(await store.queuePosition(jobs[2]?.id as string)).toBe(2);
      });

      it('gives the jobs of a stale or stopped instance to one adopter', async () => {
        const key = await storedKey(store);
        await admitted(key, newJob(key));
        await admitted(key, newJob(key));
        await store.heartbeat('inst_dead');
        const claimed = await claim('inst_dead', 2);
        const [submitted, submitting] = claimed as [JobRecord, JobRecord];
        await store.updateJob(submitted.id, submitted.version, {
          submission: 'submitted',
          requestId: 'req_1',
        });
        await store.heartbeat('inst_live');
        await store.heartbeat('inst_other');
        const hour = 3_600_000;

        // Fresh heartbeat: nothing to adopt.
        expect(
          await store.adoptJobs({
            instanceId: 'inst_live',
            staleAfterMs: hour,
            submittingStaleAfterMs: hour,
          }),
        ).toEqual([]);
        // Stale for a submitted job, not yet for a POST that may still be running.
        const adopted = await store.adoptJobs({
          instanceId: 'inst_live',
          staleAfterMs: 0,
          submittingStaleAfterMs: hour,
        });
        expect(ids(adopted)).toEqual([submitted.id]);
        expect(adopted[0]).toMatchObject({ submission: 'submitted', requestId: 'req_1' });
        // Stopped: adoptable at once; a second adopter finds nothing left.
        await store.removeInstance('inst_dead');
        const rest = { staleAfterMs: hour, submittingStaleAfterMs: hour };
        const both = await Promise.all([
          store.adoptJobs({ instanceId: 'inst_live', ...rest }),
          store.adoptJobs({ instanceId: 'inst_other', ...rest }),
        ]);
        expect(ids(both.flat())).toEqual([submitting.id]);
        expect(await store.adoptJobs({ instanceId: 'inst_other', ...rest })).toEqual([]);
      });
    });

    describe('upstream health', () => {
      const at = (ms: number) => new Date(Date.UTC(2025, 5, 1) + ms);

      it('records a condition, renews it keeping since, and lets one instance probe after the cooldown', async () => {
        expect(await store.readUpstream()).toBeNull();
        await store.recordUpstreamCondition('wallet_empty', at(0), at(1000));
        await store.recordUpstreamCondition('wallet_empty', at(500), at(2000));
        expect(await store.readUpstream()).toEqual({
          condition: 'wallet_empty',
          since: at(0),
          until: at(2000),
          probeBy: null,
        });
        // Not during the cooldown; after it, one winner among instances asking at once.
        expect(await store.takeUpstreamProbe('inst_a', at(1999))).toBe(false);
        const takes = await Promise.all(
          ['inst_a', 'inst_b', 'inst_c'].map((id) => store.takeUpstreamProbe(id, at(2000))),
        );
        expect(takes.filter(Boolean)).toHaveLength(1);
        const prober = ['inst_a', 'inst_b', 'inst_c'][takes.indexOf(true)] as string;
        expect((await store.readUpstream())?.probeBy).toBe(prober);

        // Only the prober's success clears it; a probe without a verdict frees the probe.
        expect(await store.clearUpstreamCondition('inst_other')).toBe(false);
        await store.releaseUpstreamProbe(prober);
        expect(await store.takeUpstreamProbe('inst_other', at(2001))).toBe(true);
        expect(await store.clearUpstreamCondition('inst_other')).toBe(true);
        expect(await store.readUpstream()).toBeNull();
      });

      it('starts a new condition afresh and frees the probe when a condition is met again', async () => {
        await store.recordUpstreamCondition('unreachable', at(0), at(10));
        expect(await store.takeUpstreamProbe('inst_a', at(10))).toBe(true);
        await store.recordUpstreamCondition('key_rejected', at(20), at(80));
        expect(await store.readUpstream()).toEqual({
          condition: 'key_rejected',
          since: at(20),
          until: at(80),
          probeBy: null,
        });
      });
    });

    describe('idempotency', () => {
      it('returns the first job for a repeated key and charges once', async () => {
        const key = await storedKey(store);
        const first = await admitted(key, newJob(key, { idempotencyKey: 'same' }));

        const again = await admit(key, newJob(key, { idempotencyKey: 'same' }));
        expect(again).toEqual({ kind: 'existing', job: first });
        expect(await store.usage({ keyId: key.id, endUserId: null }, DAY)).toEqual({
          spentMicroUsd: 8000,
          spentThisMonthMicroUsd: 8000,
          jobsInFlight: 1,
        });
      });

      it('refuses a repeated key with other parameters, creating and charging nothing', async () => {
        const key = await storedKey(store);
        const first = await admitted(key, newJob(key, { idempotencyKey: 'same' }));

        const other = await admit(key, newJob(key, { idempotencyKey: 'same', prompt: 'other' }));
        expect(other).toEqual({ kind: 'idempotency_conflict', job: first });
        expect(await store.usage({ keyId: key.id, endUserId: null }, DAY)).toEqual({
          spentMicroUsd: 8000,
          spentThisMonthMicroUsd: 8000,
          jobsInFlight: 1,
        });
      });

      it('scopes idempotency keys to the key and the end user', async () => {
        const key = await storedKey(store, { scopes: ['generate', 'act-as'] });
        const other = await storedKey(store);
        const idem = { idempotencyKey: 'shared' };

        const own = await admit(key, newJob(key, idem));
        const alice = await admit(key, newJob(key, { ...idem, endUserId: 'alice' }));
        const bob = await admit(key, newJob(key, { ...idem, endUserId: 'bob' }));
        const otherKey = await admit(other, newJob(other, idem));
        expect([own.kind, alice.kind, bob.kind, otherKey.kind]).toEqual([
          'created',
          'created',
          'created',
          'created',
        ]);

        const aliceAgain = await admit(key, newJob(key, { ...idem, endUserId: 'alice' }));
        const ownAgain = await admit(key, newJob(key, idem));
        expect(aliceAgain).toEqual({ kind: 'existing', job: (alice as { job: JobRecord }).job });
        expect(ownAgain).toEqual({ kind: 'existing', job: (own as { job: JobRecord }).job });
      });

      it('finds the job of an idempotency key, scoped like admission, without admitting', async () => {
        const key = await storedKey(store, { scopes: ['generate', 'act-as'] });
        const own = await admitted(key, newJob(key, { idempotencyKey: 'k' }));
        const alice = await admitted(key, newJob(key, { idempotencyKey: 'k', endUserId: 'alice' }));

        expect(
          await store.findJobByIdempotencyKey({ keyId: key.id, endUserId: null }, 'k'),
        ).toEqual(own);
        expect(
          await store.findJobByIdempotencyKey({ keyId: key.id, endUserId: 'alice' }, 'k'),
        ).toEqual(alice);
        expect(
          await store.findJobByIdempotencyKey({ keyId: key.id, endUserId: 'bob' }, 'k'),
        ).toBeNull();
        expect(
          await store.findJobByIdempotencyKey({ keyId: key.id, endUserId: null }, 'other'),
        ).toBeNull();
        expect((await store.usage({ keyId: key.id, endUserId: null }, DAY)).jobsInFlight).toBe(2);
      });

      it('answers a repeated key even when a limit is reached', async () => {
        const key = await storedKey(store, { limits: limits({ maxConcurrentJobs: 1 }) });
        const first = await admitted(key, newJob(key, { idempotencyKey: 'k' }));
        expect(await admit(key, newJob(key, { idempotencyKey: 'k' }))).toEqual({
          kind: 'existing',
          job: first,
        });
      });
    });

    describe('daily budgets', () => {
      it('lets a key spend exactly its budget and not one micro-USD more', async () => {
        const key = await storedKey(store, { limits: limits({ dailyBudgetMicroUsd: 20_000 }) });
        await admitted(key, newJob(key, { costMicroUsd: 8000 }));
        await admitted(key, newJob(key, { costMicroUsd: 12_000 }));

        expect(await admit(key, newJob(key, { costMicroUsd: 1 }))).toEqual({
          kind: 'budget_exceeded',
          scope: 'key',
          period: 'day',
          spentMicroUsd: 20_000,
          budgetMicroUsd: 20_000,
        });
      });

      it('refuses a job that would cross the budget, whatever it cost so far', async () => {
        const key = await storedKey(store, { limits: limits({ dailyBudgetMicroUsd: 15_999 }) });
        await admitted(key, newJob(key));
        expect(await admit(key, newJob(key))).toMatchObject({
          kind: 'budget_exceeded',
          spentMicroUsd: 8000,
        });
        expect(await admit(key, newJob(key, { costMicroUsd: 7999 }))).toMatchObject({
          kind: 'created',
        });
      });

      it('budgets each end user, and counts them all against the key', async () => {
        const key = await storedKey(store, {
          scopes: ['generate', 'act-as'],
          limits: limits({ dailyBudgetMicroUsd: 24_000 }),
          endUserLimits: userLimits({ dailyBudgetMicroUsd: 16_000 }),
        });
        const asAlice = { endUserId: 'alice' };
        await admitted(key, newJob(key, asAlice));
        await admitted(key, newJob(key, asAlice));

        expect(await admit(key, newJob(key, { ...asAlice, costMicroUsd: 1 }))).toEqual({
          kind: 'budget_exceeded',
          scope: 'endUser',
          period: 'day',
          spentMicroUsd: 16_000,
          budgetMicroUsd: 16_000,
        });
        await admitted(key, newJob(key, { endUserId: 'bob' }));
        expect(await admit(key, newJob(key, { endUserId: 'carol' }))).toEqual({
          kind: 'budget_exceeded',
          scope: 'key',
          period: 'day',
          spentMicroUsd: 24_000,
          budgetMicroUsd: 24_000,
        });
        expect(await store.usage({ keyId: key.id, endUserId: 'alice' }, DAY)).toEqual({
          spentMicroUsd: 16_000,
          spentThisMonthMicroUsd: 16_000,
          jobsInFlight: 2,
        });
        expect(await store.usage({ keyId: key.id, endUserId: null }, DAY)).toEqual({
          spentMicroUsd: 24_000,
          spentThisMonthMicroUsd: 24_000,
          jobsInFlight: 3,
        });
      });

      it('starts every UTC day afresh', async () => {
        const key = await storedKey(store, { limits: limits({ dailyBudgetMicroUsd: 8000 }) });
        await admitted(key, newJob(key));
        const nextDay = newJob(key, { createdAt: new Date('2025-06-02T00:00:00.000Z') });
        expect((await admit(key, nextDay, '2025-06-02')).kind).toBe('created');
        expect(
          (await store.usage({ keyId: key.id, endUserId: null }, '2025-06-02')).spentMicroUsd,
        ).toBe(8000);
      });

      it('refunds a lowered cost to the day and end user that paid', async () => {
        const key = await storedKey(store, {
          scopes: ['generate', 'act-as'],
          limits: limits({ dailyBudgetMicroUsd: 8000 }),
          endUserLimits: userLimits({ dailyBudgetMicroUsd: 8000 }),
        });
        const job = await admitted(key, newJob(key, { endUserId: 'alice' }));
        expect((await admit(key, newJob(key, { endUserId: 'alice' }))).kind).toBe(
          'budget_exceeded',
        );

        // Pixazo ERROR (or a cancel before submission) costs nothing.
        await store.updateJob(job.id, 1, { status: 'ERROR', costMicroUsd: 0 });
        expect(await store.usage({ keyId: key.id, endUserId: 'alice' }, DAY)).toEqual({
          spentMicroUsd: 0,
          spentThisMonthMicroUsd: 0,
          jobsInFlight: 0,
        });
        expect((await admit(key, newJob(key, { endUserId: 'alice' }))).kind).toBe('created');
      });

      it('keeps the ledger equal to the costs through every change', async () => {
        const key = await storedKey(store);
        const owner = { keyId: key.id, endUserId: null };
        const job = await admitted(key, newJob(key, { costMicroUsd: 16_000 }));

        await store.updateJob(job.id, 1, { costMicroUsd: 8000 });
        expect((await store.usage(owner, DAY)).spentMicroUsd).toBe(8000);
        await store.updateJob(job.id, 2, { costMicroUsd: 10_000 });
        expect((await store.usage(owner, DAY)).spentMicroUsd).toBe(10_000);
        // A lost compare-and-set books nothing.
        await store.updateJob(job.id, 1, { costMicroUsd: 0 });
        expect((await store.usage(owner, DAY)).spentMicroUsd).toBe(10_000);
        await store.updateJob(job.id, 3, { status: 'COMPLETED' });
        expect((await store.usage(owner, DAY)).spentMicroUsd).toBe(10_000);
      });
    });

    describe('monthly budgets and allowed models', () => {
      /** A job of `key` created at noon UTC on `day`. */
      const jobOn = (key: ApiKeyRecord, day: string) =>
        newJob(key, { createdAt: new Date(`${day}T12:00:00.000Z`) });

      it('counts every day of the UTC calendar month, and starts each month afresh', async () => {
        const key = await storedKey(store, { limits: limits({ monthlyBudgetMicroUsd: 20_000 }) });
        // The last day of the month before does not count.
        expect((await admit(key, jobOn(key, '2025-05-31'), '2025-05-31')).kind).toBe('created');
        expect((await admit(key, jobOn(key, DAY), DAY)).kind).toBe('created');
        expect((await admit(key, jobOn(key, '2025-06-15'), '2025-06-15')).kind).toBe('created');

        expect(await admit(key, jobOn(key, '2025-06-30'), '2025-06-30')).toEqual({
          kind: 'budget_exceeded',
          scope: 'key',
          period: 'month',
          spentMicroUsd: 16_000,
          budgetMicroUsd: 20_000,
        });
        expect(await store.usage({ keyId: key.id, endUserId: null }, '2025-06-30')).toEqual({
          spentMicroUsd: 0,
          spentThisMonthMicroUsd: 16_000,
          jobsInFlight: 3,
        });
        expect((await admit(key, jobOn(key, '2025-07-01'), '2025-07-01')).kind).toBe('created');
      });

      it('gives a refund back to the month that paid', async () => {
        const key = await storedKey(store, { limits: limits({ monthlyBudgetMicroUsd: 8000 }) });
        const paid = await admitted(key, jobOn(key, DAY));
        expect((await admit(key, jobOn(key, '2025-06-02'), '2025-06-02')).kind).toBe(
          'budget_exceeded',
        );
        await store.updateJob(paid.id, 1, { status: 'ERROR', costMicroUsd: 0 });
        expect((await admit(key, jobOn(key, '2025-06-02'), '2025-06-02')).kind).toBe('created');
      });

      it("weighs the day's budget before the month's", async () => {
        const key = await storedKey(store, {
          limits: limits({ dailyBudgetMicroUsd: 8000, monthlyBudgetMicroUsd: 8000 }),
        });
        await admitted(key, newJob(key));
        expect(await admit(key, newJob(key))).toMatchObject({
          kind: 'budget_exceeded',
          period: 'day',
        });
      });

      it('refuses a model the key may not use, storing and charging nothing', async () => {
        const key = await storedKey(store, { limits: limits({ allowedModels: ['base'] }) });
        const turbo = newJob(key, { model: 'turbo' });
        expect(await admit(key, turbo)).toEqual({
          kind: 'model_not_allowed',
          allowedModels: ['base'],
        });
        expect(await store.getJob(turbo.id)).toBeNull();
        expect((await store.usage({ keyId: key.id, endUserId: null }, DAY)).spentMicroUsd).toBe(0);
        expect((await admit(key, newJob(key, { model: 'base', costMicroUsd: 10_000 }))).kind).toBe(
          'created',
        );
      });

      it('stores both new limits, and a key without them', async () => {
        const key = await storedKey(store, {
          limits: limits({ monthlyBudgetMicroUsd: 123_456_789, allowedModels: ['turbo', 'base'] }),
        });
        expect(await store.getApiKey(key.id)).toEqual(key);
        const plain = await storedKey(store);
        expect((await store.getApiKey(plain.id))?.limits).toEqual(NO_LIMITS);
      });
    });

    describe('concurrency limits', () => {
      it('caps the jobs in flight of a key, and frees a slot when one ends', async () => {
        const key = await storedKey(store, { limits: limits({ maxConcurrentJobs: 2 }) });
        await admitted(key, newJob(key, { status: 'COMPLETED' }));
        const first = await admitted(key, newJob(key));
        await admitted(key, newJob(key, { status: 'PROCESSING', submission: 'submitted' }));

        expect(await admit(key, newJob(key))).toEqual({
          kind: 'too_many_jobs',
          scope: 'key',
          inFlight: 2,
          max: 2,
        });
        await store.updateJob(first.id, 1, { status: 'CANCELLED', costMicroUsd: 0 });
        expect((await admit(key, newJob(key))).kind).toBe('created');
      });

      it('caps the jobs in flight of each end user', async () => {
        const key = await storedKey(store, {
          scopes: ['generate', 'act-as'],
          endUserLimits: userLimits({ maxConcurrentJobs: 1 }),
        });
        await admitted(key, newJob(key, { endUserId: 'alice' }));
        expect(await admit(key, newJob(key, { endUserId: 'alice' }))).toEqual({
          kind: 'too_many_jobs',
          scope: 'endUser',
          inFlight: 1,
          max: 1,
        });
        expect((await admit(key, newJob(key, { endUserId: 'bob' }))).kind).toBe('created');
        expect((await admit(key, newJob(key))).kind).toBe('created');
      });

      it('reports the budget before the concurrency when both are reached', async () => {
        const key = await storedKey(store, {
          limits: limits({ dailyBudgetMicroUsd: 8000, maxConcurrentJobs: 1 }),
        });
        await admitted(key, newJob(key));
        expect((await admit(key, newJob(key))).kind).toBe('budget_exceeded');
      });
    });

    describe('simultaneous admissions, on several connections', () => {
      let db: StoreConnections;

      beforeEach(async () => {
        db = await adapter.openConnections(CONNECTIONS);
      });

      afterEach(async () => {
        await db.close();
      });

      /** Sends every admission at once, spread over the connections, and waits for all. */
      const admitAtOnce = (key: ApiKeyRecord, jobs: JobRecord[], day = DAY) =>
        Promise.all(
          jobs.map((job, i) =>
            (db.stores[i % db.stores.length] as Store).admitJob({
              job,
              day,
              keyLimits: key.limits,
              endUserLimits: job.endUserId === null ? null : key.endUserLimits,
            }),
          ),
        );

      it('holds every limit', async () => {
        const [first] = db.stores as [Store];
        const key = await storedKey(first, {
          scopes: ['generate', 'act-as'],
          limits: limits({ maxConcurrentJobs: 5 }),
          endUserLimits: userLimits({ dailyBudgetMicroUsd: 24_000 }),
        });
        const results = await admitAtOnce(
          key,
          Array.from({ length: 40 }, (_, i) =>
            newJob(key, { endUserId: i % 2 === 0 ? 'alice' : 'bob' }),
          ),
        );
        const created = results.filter((r) => r.kind === 'created');
        expect(created).toHaveLength(5);
        const perUser = (user: string) =>
          created.filter((r) => (r as { job: JobRecord }).job.endUserId === user).length;
        expect(perUser('alice')).toBeLessThanOrEqual(3);
        expect(perUser('bob')).toBeLessThanOrEqual(3);
        expect((await first.usage({ keyId: key.id, endUserId: null }, DAY)).jobsInFlight).toBe(5);
      });

      it('holds the monthly budget, counting the earlier days of the month', async () => {
        const [first] = db.stores as [Store];
        const key = await storedKey(first, { limits: limits({ monthlyBudgetMicroUsd: 7 * 8000 }) });
        // Two jobs earlier in the month, on one connection; then 12 at once on another day.
        for (let i = 0; i < 2; i++) {
          const job = newJob(key);
          const earlier = await first.admitJob({
            job,
            day: DAY,
            keyLimits: key.limits,
            endUserLimits: null,
          });
          expect(earlier.kind).toBe('created');
        }
        const later = '2025-06-20';
        const results = await admitAtOnce(
          key,
          Array.from({ length: 12 }, () =>
            newJob(key, { createdAt: new Date(`${later}T09:00:00.000Z`) }),
          ),
          later,
        );
        const kinds = results.map((r) => r.kind);
        expect(kinds.filter((k) => k === 'created')).toHaveLength(5);
        expect(results.filter((r) => r.kind !== 'created')).toEqual(
          Array(7).fill({
            kind: 'budget_exceeded',
            scope: 'key',
            period: 'month',
            spentMicroUsd: 7 * 8000,
            budgetMicroUsd: 7 * 8000,
          }),
        );
        expect(await first.usage({ keyId: key.id, endUserId: null }, later)).toMatchObject({
          spentMicroUsd: 5 * 8000,
          spentThisMonthMicroUsd: 7 * 8000,
        });
      });

      it('holds the monthly budget of a key whose end users are admitted at once', async () => {
        const [first] = db.stores as [Store];
        const key = await storedKey(first, {
          scopes: ['generate', 'act-as'],
          limits: limits({ monthlyBudgetMicroUsd: 4 * 8000 }),
          endUserLimits: userLimits({ maxConcurrentJobs: 10 }),
        });
        const results = await admitAtOnce(
          key,
          Array.from({ length: 16 }, (_, i) => newJob(key, { endUserId: `user-${i % 4}` })),
        );
        expect(results.filter((r) => r.kind === 'created')).toHaveLength(4);
        expect(
          (await first.usage({ keyId: key.id, endUserId: null }, DAY)).spentThisMonthMicroUsd,
        ).toBe(4 * 8000);
      });

      it('creates one job for one idempotency key', async () => {
        const [first] = db.stores as [Store];
        const key = await storedKey(first);
        const results = await admitAtOnce(
          key,
          Array.from({ length: 20 }, () => newJob(key, { idempotencyKey: 'once' })),
        );
        const created = results.filter((r) => r.kind === 'created');
        expect(created).toHaveLength(1);
        const ids = new Set(results.map((r) => (r as { job: JobRecord }).job.id));
        expect(ids).toEqual(new Set([(created[0] as { job: JobRecord }).job.id]));
        expect((await first.usage({ keyId: key.id, endUserId: null }, DAY)).spentMicroUsd).toBe(
          8000,
        );
      });
    });

    describe('listing', () => {
      it('pages newest first with the last id as cursor', async () => {
        const key = await storedKey(store);
        const jobs: JobRecord[] = [];
        for (let i = 0; i < 5; i++) jobs.push(await admitted(key, newJob(key)));
        const newestFirst = jobs.map((j) => j.id).reverse();

        const page1 = await store.listJobs({ ownerKeyId: key.id }, 2);
        expect(page1.jobs.map((j) => j.id)).toEqual(newestFirst.slice(0, 2));
        expect(page1.hasNextPage).toBe(true);
        const page2 = await store.listJobs({ ownerKeyId: key.id }, 2, page1.jobs[1]?.id);
        expect(page2.jobs.map((j) => j.id)).toEqual(newestFirst.slice(2, 4));
        expect(page2.hasNextPage).toBe(true);
        const page3 = await store.listJobs({ ownerKeyId: key.id }, 2, page2.jobs[1]?.id);
        expect(page3.jobs.map((j) => j.id)).toEqual(newestFirst.slice(4));
        expect(page3.hasNextPage).toBe(false);
        expect(await store.listJobs({ ownerKeyId: key.id }, 5)).toMatchObject({
          hasNextPage: false,
        });
        expect(await store.listJobs({ ownerKeyId: key.id }, 0)).toEqual({
          jobs: [],
          hasNextPage: true,
        });
      });

      it(`caps a page at ${MAX_JOBS_PAGE_SIZE} jobs`, async () => {
        const key = await storedKey(store);
        for (let i = 0; i <= MAX_JOBS_PAGE_SIZE; i++) await admitted(key, newJob(key));
        const page = await store.listJobs({}, 10_000);
        expect(page.jobs).toHaveLength(MAX_JOBS_PAGE_SIZE);
        expect(page.hasNextPage).toBe(true);
      });

      it('filters by owner, end user, status and model', async () => {
        const key = await storedKey(store, { scopes: ['generate', 'act-as'] });
        const other = await storedKey(store);
        const own = await admitted(key, newJob(key));
        const alice = await admitted(key, newJob(key, { endUserId: 'alice', model: 'base' }));
        const done = await admitted(key, newJob(key, { endUserId: 'alice', status: 'COMPLETED' }));
        const foreign = await admitted(other, newJob(other));

        const ids = async (filter: Parameters<Store['listJobs']>[0]) =>
          (await store.listJobs(filter, 50)).jobs.map((j) => j.id);
        expect(await ids({})).toEqual([foreign.id, done.id, alice.id, own.id]);
        expect(await ids({ ownerKeyId: key.id })).toEqual([done.id, alice.id, own.id]);
        expect(await ids({ ownerKeyId: key.id, endUserId: 'alice' })).toEqual([done.id, alice.id]);
        expect(await ids({ ownerKeyId: key.id, status: 'COMPLETED' })).toEqual([done.id]);
        expect(await ids({ model: 'base' })).toEqual([alice.id]);
        expect(await ids({ ownerKeyId: other.id, endUserId: 'alice' })).toEqual([]);
      });

      it('searches prompts case-insensitively, taking % and _ literally', async () => {
        const key = await storedKey(store);
        const prompt = async (text: string) =>
          (await admitted(key, newJob(key, { prompt: text }))).id;
        const lighthouse = await prompt('A Lighthouse at DAWN');
        const percent = await prompt('100% cotton shirt');
        const underscore = await prompt('snake_case sign');
        const backslash = await prompt('C:\\path\\to');
        const accented = await prompt('ÉCLAIR au café');
        await prompt('1000 cotton shirts');
        await prompt('snakeXcase sign');

        const search = async (text: string) =>
          (await store.listJobs({ ownerKeyId: key.id, search: text }, 50)).jobs.map((j) => j.id);
        expect(await search('lighthouse at dawn')).toEqual([lighthouse]);
        expect(await search('0% c')).toEqual([percent]);
        expect(await search('e_c')).toEqual([underscore]);
        expect(await search('\\path')).toEqual([backslash]);
        expect(await search('éclair AU CAFÉ')).toEqual([accented]);
        expect(await search('nothing like it')).toEqual([]);
      });
    });

    describe('changes since a time', () => {
      it('lists jobs updated at or after it, least recently updated first, page by page', async () => {
        const since = new Date('2030-01-01T00:00:00.000Z');
        const at = (seconds: number) => new Date(since.getTime() + seconds * 1000);
        let now = at(0);
        const clocked = await adapter.open({ now: () => now });
        try {
          const key = await storedKey(clocked);
          const other = await storedKey(clocked);
          const admit = async (owner: ApiKeyRecord, updatedAt: Date) => {
            const job = newJob(owner, { createdAt: updatedAt, updatedAt });
            await clocked.admitJob({ job, day: DAY, keyLimits: NO_LIMITS, endUserLimits: null });
            return job;
          };
          const before = await admit(key, at(-1));
          const first = await admit(key, at(1));
          const tieA = await admit(key, at(2));
          const tieB = await admit(key, at(2));
          const foreign = await admit(other, at(3));
          now = at(5);
          const updated = await clocked.updateJob(first.id, 1, { status: 'PROCESSING' });

          const mine = { ownerKeyId: key.id };
          const page1 = await clocked.listJobsUpdatedSince(mine, since, 2);
          expect(page1.jobs.map((j) => j.id)).toEqual([tieA.id, tieB.id]);
          expect(page1.hasNextPage).toBe(true);
          const page2 = await clocked.listJobsUpdatedSince(mine, since, 2, page1.jobs[1]);
          expect(page2).toEqual({ jobs: [updated], hasNextPage: false });

          const ids = async (filter: Parameters<Store['listJobs']>[0], from: Date) =>
            (await clocked.listJobsUpdatedSince(filter, from, 50)).jobs.map((j) => j.id);
          expect(await ids({}, since)).toEqual([tieA.id, tieB.id, foreign.id, first.id]);
          expect(await ids(mine, at(2))).toEqual([tieA.id, tieB.id, first.id]);
          expect(await ids(mine, at(-1))).toEqual([before.id, tieA.id, tieB.id, first.id]);
          expect(await ids({ ownerKeyId: other.id, endUserId: 'alice' }, since)).toEqual([]);
          expect(
            (await clocked.listJobsUpdatedSince({}, since, 10_000)).jobs.length,
          ).toBeLessThanOrEqual(MAX_JOBS_PAGE_SIZE);
        } finally {
          await clocked.close();
        }
      });
    });

    describe('operators: keys, spending, usage reports, the audit log', () => {
      it('pages keys newest first, the revoked ones only when asked', async () => {
        const keys: ApiKeyRecord[] = [];
        for (let i = 0; i < 4; i++) keys.push(await storedKey(store, { name: `k${i}` }));
        await store.revokeApiKey(keys[2]?.id as string);
        const ids = (page: { keys: ApiKeyRecord[] }) => page.keys.map((k) => k.id);

        const first = await store.listApiKeyPage({ first: 3, includeRevoked: true });
        expect(ids(first)).toEqual([keys[3]?.id, keys[2]?.id, keys[1]?.id]);
        expect(first.hasNextPage).toBe(true);
        const rest = await store.listApiKeyPage({
          first: 3,
          after: keys[1]?.id,
          includeRevoked: true,
        });
        expect(rest).toEqual({ keys: [keys[0]], hasNextPage: false });
        const live = await store.listApiKeyPage({ first: 10, includeRevoked: false });
        expect(ids(live)).toEqual([keys[3]?.id, keys[1]?.id, keys[0]?.id]);
        expect(await store.getApiKeys([keys[0]?.id as string, 'key_missing'])).toEqual([keys[0]]);
      });

      it('applies a limits patch and logs what changed, in one step', async () => {
        const key = await storedKey(store, {
          limits: limits({ dailyBudgetMicroUsd: 1_000_000, allowedModels: ['turbo'] }),
          endUserLimits: userLimits({ requestsPerMinute: 5 }),
        });
        const audit = auditOf('update_api_key_limits', key.id);
        const { details: _, ...draft } = audit;
        const updated = await store.updateApiKeyLimits(
          key.id,
          { dailyBudgetMicroUsd: null, monthlyBudgetMicroUsd: 9, endUserMaxConcurrentJobs: 2 },
          draft,
        );
        const expected = {
          ...key,
          limits: { ...key.limits, dailyBudgetMicroUsd: null, monthlyBudgetMicroUsd: 9 },
          endUserLimits: { ...key.endUserLimits, maxConcurrentJobs: 2 },
        };
        expect(updated).toEqual(expected);
        expect(await store.getApiKey(key.id)).toEqual(expected);
        expect((await store.listAuditLog(10)).entries).toEqual([
          {
            ...audit,
            details: {
              dailyBudgetMicroUsd: { from: 1_000_000, to: null },
              monthlyBudgetMicroUsd: { from: null, to: 9 },
              endUserMaxConcurrentJobs: { from: null, to: 2 },
            },
          },
        ]);

        const missing = auditOf('update_api_key_limits', 'key_missing');
        expect(
          await store.updateApiKeyLimits('key_missing', { requestsPerMinute: 1 }, missing),
        ).toBeNull();
        expect((await store.listAuditLog(10)).entries).toHaveLength(1);
      });

      it('logs a creation with its key, and a revocation only when it happens', async () => {
        const key = newKey();
        const created = auditOf('create_api_key', key.id, { name: key.name });
        await store.createApiKey(key, created);
        const revoked = auditOf('revoke_api_key', key.id);
        expect(await store.revokeApiKey(key.id, revoked)).toBe(true);
        expect(await store.revokeApiKey(key.id, auditOf('revoke_api_key', key.id))).toBe(false);

        const first = await store.listAuditLog(1);
        expect(first).toEqual({ entries: [revoked], hasNextPage: true });
        expect(await store.listAuditLog(10, revoked.id)).toEqual({
          entries: [created],
          hasNextPage: false,
        });
        // A key whose audit entry cannot be written is not created either.
        const orphan = newKey();
        await expect(store.createApiKey(orphan, created)).rejects.toThrow();
        expect(await store.getApiKey(orphan.id)).toBeNull();
      });

      it("sums each key's spending today and this month, refunds included", async () => {
        const key = await storedKey(store);
        const other = await storedKey(store);
        await admit(key, newJob(key), '2025-06-01');
        const refunded = await admitted(key, newJob(key, { costMicroUsd: 5000 }));
        await store.updateJob(refunded.id, 1, { status: 'ERROR', costMicroUsd: 0 });
        await admit(key, newJob(key), '2025-06-03');
        await admit(key, newJob(key), '2025-05-31');
        const spending = await store.keySpending([key.id, other.id], '2025-06-03');
        expect(Object.fromEntries(spending)).toEqual({
          [key.id]: { todayMicroUsd: 8000, thisMonthMicroUsd: 16_000 },
          [other.id]: { todayMicroUsd: 0, thisMonthMicroUsd: 0 },
        });
      });

      it('reports the charged jobs by group, exactly, a full refund counting for nothing', async () => {
        const key = await storedKey(store, { scopes: ['generate', 'act-as'] });
        const other = await storedKey(store);
        const on = (owner: ApiKeyRecord, job: JobRecord, day: string) =>
          store.admitJob({ job, day, keyLimits: owner.limits, endUserLimits: null });
        await on(key, newJob(key), '2025-06-01');
        await on(
          key,
          newJob(key, { endUserId: 'alice', model: 'base', numImages: 3, costMicroUsd: 30_000 }),
          '2025-06-01',
        );
        await on(
          key,
          newJob(key, { endUserId: 'alice', numImages: 2, costMicroUsd: 16_000 }),
          '2025-06-02',
        );
        const partly = newJob(key, { endUserId: 'alice', numImages: 2, costMicroUsd: 16_000 });
        await on(key, partly, '2025-06-02');
        await store.updateJob(partly.id, 1, { costMicroUsd: 8000 });
        const refunded = newJob(key, { endUserId: 'bob' });
        await on(key, refunded, '2025-06-02');
        await store.updateJob(refunded.id, 1, { status: 'ERROR', costMicroUsd: 0 });
        await on(other, newJob(other), '2025-06-02');
        await on(other, newJob(other), '2025-06-04');

        const report = (from: string, to: string, groupBy: UsageGroup[]) =>
          store.usageReport({ from, to, groupBy, maxRows: 100 });
        const none = { day: null, model: null, keyId: null, endUserId: null };
        expect(await report('2025-06-01', '2025-06-03', [])).toEqual([
          { ...none, jobs: 5, images: 9, microUsd: 70_000 },
        ]);
        expect(await report('2025-06-01', '2025-06-02', ['day'])).toEqual([
          { ...none, day: '2025-06-01', jobs: 2, images: 4, microUsd: 38_000 },
          { ...none, day: '2025-06-02', jobs: 3, images: 5, microUsd: 32_000 },
        ]);
        expect(await report('2025-06-01', '2025-06-30', ['apiKey', 'model'])).toEqual(
          [
            { ...none, keyId: key.id, model: 'base', jobs: 1, images: 3, microUsd: 30_000 },
            { ...none, keyId: key.id, model: 'turbo', jobs: 3, images: 5, microUsd: 32_000 },
            { ...none, keyId: other.id, model: 'turbo', jobs: 2, images: 2, microUsd: 16_000 },
          ].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0)),
        );
        expect(await report('2025-06-02', '2025-06-02', ['endUser', 'apiKey'])).toEqual([
          { ...none, endUserId: 'alice', keyId: key.id, jobs: 2, images: 4, microUsd: 24_000 },
          { ...none, keyId: other.id, jobs: 1, images: 1, microUsd: 8000 },
        ]);
        expect(await report('2025-07-01', '2025-07-31', ['day'])).toEqual([]);
        // One row past maxRows tells the caller there are more.
        expect(
          await store.usageReport({
            from: '2025-06-01',
            to: '2025-06-30',
            groupBy: ['day'],
            maxRows: 1,
          }),
        ).toHaveLength(2);
      });

      it('records the last use of a key at most once per throttle period', async () => {
        const key = await storedKey(store);
        const at = (seconds: number) => new Date(Date.UTC(2025, 5, 1, 12, 0, seconds));
        await store.recordApiKeyUse(key.id, at(0), 60_000);
        await store.recordApiKeyUse(key.id, at(59), 60_000);
        expect((await store.getApiKey(key.id))?.lastUsedAt).toEqual(at(0));
        await store.recordApiKeyUse(key.id, at(60), 60_000);
        expect((await store.getApiKey(key.id))?.lastUsedAt).toEqual(at(60));
      });
    });

    describe('API keys', () => {
      it('creates, finds, lists and revokes keys', async () => {
        const limited = limits({ dailyBudgetMicroUsd: 5_000_000, requestsPerMinute: 60 });
        const bot = await storedKey(store, {
          name: 'discord bot',
          scopes: ['generate', 'read', 'act-as'],
          limits: limited,
          endUserLimits: userLimits({ dailyBudgetMicroUsd: 0, maxConcurrentJobs: 2 }),
        });
        const admin = await storedKey(store, { name: 'admin', scopes: ['admin'] });

        expect(await store.getApiKey(bot.id)).toEqual(bot);
        expect(await store.getApiKeyBySecretHash(admin.secretHash)).toEqual(admin);
        expect(await store.getApiKeyBySecretHash('unknown')).toBeNull();
        expect(await store.getApiKey('key_missing')).toBeNull();
        expect((await store.listApiKeys()).map((k) => k.id).sort()).toEqual(
          [bot.id, admin.id].sort(),
        );

        expect(await store.revokeApiKey(bot.id)).toBe(true);
        expect(await store.revokeApiKey(bot.id)).toBe(false);
        expect(await store.revokeApiKey('key_missing')).toBe(false);
        const revoked = await store.getApiKey(bot.id);
        expect(revoked?.revokedAt).toBeInstanceOf(Date);
        expect(revoked).toEqual({ ...bot, revokedAt: expect.any(Date) });
      });

      it('refuses a second key with the same secret hash', async () => {
        const key = await storedKey(store);
        await expect(storedKey(store, { secretHash: key.secretHash })).rejects.toThrow();
      });

      it('creates a key only if none has its secret hash', async () => {
        const key = newKey();
        expect(await store.createApiKeyIfAbsent(key)).toEqual({ created: true, key });
        const rival = newKey({ secretHash: key.secretHash, name: 'rival', scopes: ['read'] });
        expect(await store.createApiKeyIfAbsent(rival)).toEqual({ created: false, key });
        expect(await store.listApiKeys()).toEqual([key]);
      });

      it('stores one key for many simultaneous creations with one secret hash', async () => {
        const rivals = Array.from({ length: 10 }, () => newKey({ secretHash: 'one-secret' }));
        const results = await Promise.all(rivals.map((k) => store.createApiKeyIfAbsent(k)));
        const winners = results.filter((r) => r.created).map((r) => r.key);
        expect(winners).toHaveLength(1);
        expect(results.map((r) => r.key)).toEqual(rivals.map(() => winners[0]));
        expect(await store.listApiKeys()).toEqual(winners);
      });
    });

    it('stamps its writes with the clock it was given', async () => {
      const now = new Date('2030-01-02T03:04:05.678Z');
      const clocked = await adapter.open({ now: () => now });
      try {
        const key = await storedKey(clocked);
        const job = newJob(key);
        await clocked.admitJob({ job, day: DAY, keyLimits: NO_LIMITS, endUserLimits: null });
        expect((await clocked.updateJob(job.id, 1, { status: 'PROCESSING' }))?.updatedAt).toEqual(
          now,
        );
        await clocked.revokeApiKey(key.id);
        expect((await clocked.getApiKey(key.id))?.revokedAt).toEqual(now);
      } finally {
        await clocked.close();
      }
    });

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });
  });
}

/**
 * What the gateway currently knows about Pixazo's ability to take new work, learnt from what
 * its own requests met: the submitter reports every generate POST's outcome, the tracker the
 * status reads that could not connect. Nothing is probed on the side.
 *
 * - Healthy: jobs are admitted and sent as usual.
 * - A condition holds (wallet empty: 402; key rejected: 401/403; unreachable: the connection
 *   was refused after core's retries): for its cooldown, new jobs are refused before admission
 *   (INSUFFICIENT_BALANCE or UPSTREAM_UNAVAILABLE, with retryAfterSeconds), so nothing is
 *   charged, stored or sent, and dispatch sends nothing, so accepted jobs wait
 *   instead of failing one after another against a Pixazo known to refuse them.
 * - After the cooldown the condition is still known but new jobs are accepted again, and ONE
 *   pending job is sent (the probe): Pixazo accepting it clears the condition; a condition
 *   renews it (a new cooldown); any other outcome (a 400, an uncertain one, nothing sent) lets
 *   the next pending job probe.
 *
 * Shared (`shared`: a multi-process store): the state is the store's one upstream row, which
 * this module caches. What an instance learns it writes through (before the job that taught it
 * changes); `sync()` (before each dispatch claim) reads what the others learnt; the probe is
 * taken in the store (`takeProbe`), so all instances together send one. Alone (SQLite), the
 * state stays in memory: a restarted gateway starts healthy and learns from its first POST.
 */
import { NetworkError, PixazoHttpError } from '@zimage/core';
import type { Logger } from '../domain/logger.ts';
import type { UpstreamCondition } from '../domain/upstream.ts';
import { GatewayError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';

export interface UpstreamHealthOptions {
  /** How long each condition holds before a probe; default 60 s, 60 s and 15 s. */
  cooldownMs?: Partial<Record<UpstreamCondition, number>> | undefined;
  /** Milliseconds since the epoch; tests inject a clock. Default Date.now. */
  now?: (() => number) | undefined;
}

export interface UpstreamHealthDeps {
  options?: UpstreamHealthOptions | undefined;
  /** Several instances on one store: the state is its upstream row, and this instance's id. */
  shared?:
    | {
        store: Pick<
          Store,
          | 'readUpstream'
          | 'recordUpstreamCondition'
          | 'takeUpstreamProbe'
          | 'releaseUpstreamProbe'
          | 'clearUpstreamCondition'
        >;
        instanceId: string;
      }
    | undefined;
  logger: Logger;
  metrics?: Pick<Metrics, 'pixazoUpstreamState'> | undefined;
}

export interface UpstreamState {
  condition: UpstreamCondition;
  /** When the condition was first seen (renewals keep it). */
  since: Date;
  /** When its cooldown ends (or ended); from then a probe may be sent. */
  until: Date;
}

export interface UpstreamHealth {
  /** The condition known now, or null when Pixazo is taken to be healthy. */
  state(): UpstreamState | null;
  /** The error refusing a new job while a condition's cooldown runs; null otherwise. */
  refusal(): GatewayError | null;
  /**
   * Whether the queue may send `jobId` now: always when healthy, never during a cooldown, and
   * after it only as the one probe (which this call claims).
   */
  maySubmit(jobId: string): boolean;
  /**
   * Takes the one probe (across instances when shared) if a condition is known and its
   * cooldown is over; `maySubmit` then names the job, or `releaseProbe` gives it back.
   */
  takeProbe(): Promise<boolean>;
  /** The probe taken found no job to send. */
  releaseProbe(): Promise<void>;
  /** Reads what other instances learnt (shared only). */
  sync(): Promise<void>;
  /** Pixazo accepted the generate POST of `jobId`; resolves once the others can know. */
  submissionAccepted(jobId: string): Promise<void>;
  /** A request met a condition: enters it or renews its cooldown; resolves once shared. */
  conditionMet(
    condition: UpstreamCondition,
    seen?: { jobId?: string; err?: unknown },
  ): Promise<void>;
  /** The submission of `jobId` is over, whatever its outcome: frees the probe. */
  submissionSettled(jobId: string): void;
  /** Called (asynchronously) whenever a job may be sent again that could not before. */
  onReady(listener: () => void): void;
  /** Clears the cooldown timer; no listener is called afterwards. */
  stop(): void;
}

export const DEFAULT_UPSTREAM_COOLDOWN_MS: Readonly<Record<UpstreamCondition, number>> = {
  wallet_empty: 60_000,
  key_rejected: 60_000,
  unreachable: 15_000,
};

/**
 * How often a running cooldown looks at the clock: with an injected clock, the longest a
 * cooldown's end goes unnoticed (a real clock's end is met exactly).
 */
const RECHECK_MS = 1_000;

const DESCRIPTIONS: Record<UpstreamCondition, string> = {
  wallet_empty: "the gateway's Pixazo wallet is empty (402)",
  key_rejected: "Pixazo rejected the gateway's key (401/403)",
  unreachable: 'Pixazo could not be reached',
};

/** The condition a failed Pixazo request shows, if any (others say nothing about upstream). */
export function upstreamConditionOf(error: unknown): UpstreamCondition | null {
  if (error instanceof NetworkError) return error.connectFailed ? 'unreachable' : null;
  if (!(error instanceof PixazoHttpError)) return null;
  switch (error.code) {
    case 'INSUFFICIENT_BALANCE':
      return 'wallet_empty';
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return 'key_rejected';
    default:
      return null;
  }
}

function refusalFor(condition: UpstreamCondition, retryAfterSeconds: number): GatewayError {
  const retry = `try again in ${retryAfterSeconds} s`;
  const extensions = { retryAfterSeconds };
  switch (condition) {
    case 'wallet_empty':
      return new GatewayError(
        'INSUFFICIENT_BALANCE',
        `The gateway's Pixazo wallet has insufficient balance; ${retry}`,
        extensions,
      );
    case 'key_rejected':
      return new GatewayError(
        'UPSTREAM_UNAVAILABLE',
        `Pixazo is rejecting the gateway's API key; ${retry}`,
        extensions,
      );
    case 'unreachable':
      return new GatewayError(
        'UPSTREAM_UNAVAILABLE',
        `Pixazo is unreachable from the gateway; ${retry}`,
        extensions,
      );
  }
}

export function createUpstreamHealth(deps: UpstreamHealthDeps): UpstreamHealth {
  const { logger, metrics } = deps;
  const now = deps.options?.now ?? Date.now;
  const cooldownMs = { ...DEFAULT_UPSTREAM_COOLDOWN_MS, ...deps.options?.cooldownMs };
  for (const [condition, ms] of Object.entries(cooldownMs)) {
    if (!(Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError(`upstream cooldown of ${condition} must be ≥ 0 ms, got ${ms}`);
    }
  }

  const shared = deps.shared;
  let current: { condition: UpstreamCondition; since: number; until: number } | null = null;
  /** The job sent as the probe after a cooldown, until its submission is over. */
  let probe: string | null = null;
  /** Another instance's probe is out (shared only). */
  let probeElsewhere = false;
  /**
   * Local changes made, and writes of them under way: a sync whose read overlapped either
   * would undo what this instance just learnt, so it is dropped (the next one reads it).
   */
  let changes = 0;
  let writing = 0;
  /** Writes to the shared row: failures are logged (the next sync corrects the cache). */
  const share = async (
    write: (store: NonNullable<typeof shared>['store'], instanceId: string) => Promise<unknown>,
  ) => {
    if (shared === undefined) return;
    writing++;
    try {
      await write(shared.store, shared.instanceId);
    } catch (error) {
      logger.warn({ err: error }, 'sharing the upstream health failed');
    } finally {
      writing--;
      changes++;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const listeners: (() => void)[] = [];

  const notifyReady = () => {
    queueMicrotask(() => {
      if (stopped) return;
      for (const listener of listeners) listener();
    });
  };

  /** Watches the cooldown's end, then tells the queue that the probe may go. */
  const watchCooldown = () => {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || current === null) return;
    const remaining = current.until - now();
    if (remaining <= 0) {
      notifyReady();
      return;
    }
    timer = setTimeout(watchCooldown, Math.min(remaining, RECHECK_MS));
    timer.unref();
  };

  const cooling = () => current !== null && now() < current.until;

  /** Another instance's probe is out (or was just taken): said once per probe. */
  const probingElsewhere = (elsewhere: boolean) => {
    if (elsewhere && !probeElsewhere) {
      logger.debug(
        { condition: current?.condition },
        'another instance is probing pixazo; this one sends nothing until it is answered',
      );
    }
    probeElsewhere = elsewhere;
  };

  const recovered = () => {
    if (current === null) return;
    changes++;
    logger.info(
      {
        condition: current.condition,
        degradedSeconds: Math.round((now() - current.since) / 1000),
      },
      'pixazo takes new work again; new jobs are accepted and sent',
    );
    current = null;
    probe = null;
    probeElsewhere = false;
    clearTimeout(timer);
    timer = undefined;
    metrics?.pixazoUpstreamState(false);
    notifyReady();
  };

  const entered = (condition: UpstreamCondition, fields: Record<string, unknown>) => {
    logger.warn(
      { condition, ...fields },
      `pixazo cannot take new work: ${DESCRIPTIONS[condition]}; new jobs are refused ` +
        'and pending jobs wait until a probe succeeds',
    );
    metrics?.pixazoUpstreamState(true);
  };

  return {
    state: () =>
      current && {
        condition: current.condition,
        since: new Date(current.since),
        until: new Date(current.until),
      },

    refusal() {
      if (current === null || !cooling()) return null;
      const retryAfterSeconds = Math.max(1, Math.ceil((current.until - now()) / 1000));
      return refusalFor(current.condition, retryAfterSeconds);
    },

    maySubmit(jobId) {
      if (current === null) return true;
      if (cooling() || probe !== null) return false;
      probe = jobId;
      logger.info({ jobId, condition: current.condition }, 'probing pixazo with a pending job');
      return true;
    },

    async submissionAccepted(jobId) {
      // Only the probe speaks for now: other POSTs left before the condition was met.
      if (current === null || probe !== jobId) return;
      recovered();
      await share((store, instanceId) => store.clearUpstreamCondition(instanceId));
    },

    async conditionMet(condition, seen = {}) {
      const at = now();
      const entering = current?.condition !== condition;
      const fields = {
        cooldownSeconds: cooldownMs[condition] / 1000,
        jobId: seen.jobId,
        err: seen.err,
      };
      changes++;
      if (entering) entered(condition, fields);
      else logger.debug({ condition, ...fields }, 'pixazo condition renewed');
      current = {
        condition,
        since: entering || current === null ? at : current.since,
        until: at + cooldownMs[condition],
      };
      if (seen.jobId !== undefined && probe === seen.jobId) probe = null;
      watchCooldown();
      const { since, until } = current;
      await share((store) =>
        store.recordUpstreamCondition(condition, new Date(entering ? at : since), new Date(until)),
      );
    },

    submissionSettled(jobId) {
      if (probe !== jobId) return;
      probe = null;
      void share((store, instanceId) => store.releaseUpstreamProbe(instanceId));
      if (!cooling()) notifyReady();
    },

    async takeProbe() {
      if (current === null || cooling() || probe !== null || probeElsewhere) return false;
      if (shared === undefined) return true;
      try {
        const taken = await shared.store.takeUpstreamProbe(shared.instanceId, new Date(now()));
        // Refused: another instance holds it (the next sync reads whose it is).
        if (!taken) probingElsewhere(true);
        return taken;
      } catch (error) {
        logger.warn({ err: error }, 'taking the upstream probe failed');
        return false;
      }
    },

    async releaseProbe() {
      await share((store, instanceId) => store.releaseUpstreamProbe(instanceId));
    },

    async sync() {
      if (shared === undefined || stopped || writing > 0) return;
      const before = changes;
      const row = await shared.store.readUpstream();
      if (changes !== before || writing > 0) return;
      if (row === null) {
        // The prober's success ended it, wherever that was.
        recovered();
        return;
      }
      if (current?.condition !== row.condition) entered(row.condition, { learnt: 'shared' });
      current = {
        condition: row.condition,
        since: row.since.getTime(),
        until: row.until.getTime(),
      };
      probingElsewhere(row.probeBy !== null && row.probeBy !== shared.instanceId);
      watchCooldown();
    },

    onReady(listener) {
      listeners.push(listener);
    },

    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

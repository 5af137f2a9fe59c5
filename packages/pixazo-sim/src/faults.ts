/**
 * Fault injection. Each fault fires either for the next N matching requests (deterministic)
 * or with a probability drawn from the seeded generator (reproducible), or both: counted
 * firings come first. Request faults act on a route; job faults are decided when a job is
 * accepted. Prompt markers (`[sim:fail]`, `[sim:error]`) decide a job's end without any setup,
 * for tests that drive the simulator from another process.
 */
import { z } from 'zod';
import type { TerminalStatus } from './jobs.ts';
import type { Random } from './random.ts';
import type { RouteKind } from './request-log.ts';

export type FaultRoute = 'submit' | 'status' | 'media' | 'any';

export interface FaultTrigger {
  /** Chance in [0, 1] that each eligible request fires the fault. */
  probability?: number;
  /** Fire for the next N eligible requests (counted down as they fire). */
  next?: number;
}

export interface RequestFaultTrigger extends FaultTrigger {
  /** Which requests are eligible; default 'submit'. */
  route?: FaultRoute;
}

export interface SimFaults {
  /** Answer 429 with `Retry-After` (default 1 s). */
  rateLimit: RequestFaultTrigger & { retryAfterSeconds?: number };
  /** Answer 500. */
  serverError: RequestFaultTrigger;
  /** Handle the request, then wait `delayMs` (default 1000) before answering. */
  slow: RequestFaultTrigger & { delayMs?: number };
  /** Handle the request (a submit creates and charges its job), then close the socket unanswered. */
  drop: RequestFaultTrigger;
  /** The accepted job ends FAILED (charged). */
  jobFailed: FaultTrigger;
  /** The accepted job ends ERROR (refunded). */
  jobError: FaultTrigger;
  /** The accepted job is lost: its status answers 404 and no webhook is sent. */
  vanish: FaultTrigger;
  /** The job's webhook is never sent (only jobs with X-Webhook-URL are eligible). */
  webhookLost: FaultTrigger;
  /** The job's webhook is sent twice; with `stale`, a PROCESSING body follows, late. */
  webhookDuplicate: FaultTrigger & { stale?: boolean };
}

export type FaultName = keyof SimFaults;
/** A change to the faults: a given fault replaces its current setting, null switches it off. */
export type FaultsUpdate = { [K in FaultName]?: SimFaults[K] | null };

const probability = z.number().min(0).max(1);
const count = z.number().int().min(0);
const trigger = { probability: probability.optional(), next: count.optional() };
const requestTrigger = {
  ...trigger,
  route: z.enum(['submit', 'status', 'media', 'any']).optional(),
};

const faultSchemas = {
  rateLimit: z.strictObject({
    ...requestTrigger,
    retryAfterSeconds: z.number().int().min(1).optional(),
  }),
  serverError: z.strictObject(requestTrigger),
  slow: z.strictObject({ ...requestTrigger, delayMs: z.number().int().min(0).optional() }),
  drop: z.strictObject(requestTrigger),
  jobFailed: z.strictObject(trigger),
  jobError: z.strictObject(trigger),
  vanish: z.strictObject(trigger),
  webhookLost: z.strictObject(trigger),
  webhookDuplicate: z.strictObject({ ...trigger, stale: z.boolean().optional() }),
} satisfies { [K in FaultName]: z.ZodType<SimFaults[K]> };

const updateSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(faultSchemas).map(([name, schema]) => [name, schema.nullable().optional()]),
  ) as { [K in FaultName]: z.ZodOptional<z.ZodNullable<(typeof faultSchemas)[K]>> },
);

/** Checks an update from an untyped source; throws an Error naming the offending field. */
export function parseFaultsUpdate(value: unknown): FaultsUpdate {
  const result = updateSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.join('.') || 'faults';
  throw new Error(`${where}: ${issue?.message ?? 'invalid'}`);
}

export type WebhookPlan = 'once' | 'lost' | 'duplicate' | 'duplicate-stale';

export interface JobFate {
  outcome: TerminalStatus;
  vanished: boolean;
  /** null for jobs without a webhook. */
  webhook: WebhookPlan | null;
}

const PROMPT_MARKERS: readonly (readonly [string, TerminalStatus])[] = [
  ['[sim:error]', 'ERROR'],
  ['[sim:fail]', 'FAILED'],
];

export class Faults {
  readonly #random: Random;
  #active: FaultsUpdate = {};

  constructor(random: Random) {
    this.#random = random;
  }

  /** Applies an update (validated: the control surface passes untrusted JSON through here). */
  set(update: FaultsUpdate): void {
    const checked = parseFaultsUpdate(update);
    for (const [name, setting] of Object.entries(checked) as [FaultName, unknown][]) {
      if (setting === null) delete this.#active[name];
      else this.#active = { ...this.#active, [name]: { ...(setting as object) } };
    }
  }

  reset(): void {
    this.#active = {};
  }

  /** The active faults, with `next` showing the firings left. */
  snapshot(): FaultsUpdate {
    return structuredClone(this.#active);
  }

  get<K extends FaultName>(name: K): SimFaults[K] | undefined {
    return this.#active[name] ?? undefined;
  }

  /** Whether a request fault fires for a request on `route`; a counted firing is used up. */
  firesOn(name: 'rateLimit' | 'serverError' | 'slow' | 'drop', route: RouteKind): boolean {
    const fault = this.#active[name];
    if (!fault) return false;
    const target = fault.route ?? 'submit';
    if (target !== 'any' && target !== route) return false;
    return this.#fires(fault);
  }

  /** Decides how an accepted job will end and what happens to its webhook. */
  decideJobFate(prompt: string, hasWebhook: boolean): JobFate {
    const marked = PROMPT_MARKERS.find(([marker]) => prompt.includes(marker))?.[1];
    const outcome =
      marked ??
      (this.#firesNamed('jobError')
        ? 'ERROR'
        : this.#firesNamed('jobFailed')
          ? 'FAILED'
          : 'COMPLETED');
    const vanished = this.#firesNamed('vanish');
    return { outcome, vanished, webhook: hasWebhook && !vanished ? this.#webhookPlan() : null };
  }

  #webhookPlan(): WebhookPlan {
    if (this.#firesNamed('webhookLost')) return 'lost';
    if (!this.#firesNamed('webhookDuplicate')) return 'once';
    return this.#active.webhookDuplicate?.stale ? 'duplicate-stale' : 'duplicate';
  }

  #firesNamed(name: 'jobFailed' | 'jobError' | 'vanish' | 'webhookLost' | 'webhookDuplicate') {
    const fault = this.#active[name];
    return fault ? this.#fires(fault) : false;
  }

  #fires(fault: FaultTrigger): boolean {
    if (fault.next !== undefined && fault.next > 0) {
      fault.next -= 1;
      return true;
    }
    // Draw only for probabilistic faults, so unrelated settings do not shift the sequence.
    return (
      fault.probability !== undefined && fault.probability > 0 && this.#random() < fault.probability
    );
  }
}

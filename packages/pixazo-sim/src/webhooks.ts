/**
 * Webhook callbacks: when a job with `X-Webhook-URL` ends, its status body is POSTed there.
 * Each delivery has a timeout and a few retries; faults can lose it, send it twice, or follow
 * it with a stale PROCESSING body. Only jobs with a webhook cost a timer, and closing the
 * simulator cancels every pending delivery.
 *
 * Every attempt is logged with the receiver's answer, so a test can wait until a callback was
 * not only sent but answered, that is, handled by the receiver.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookPlan } from './faults.ts';
import { type Job, type JobStatus, type StatusBody, statusBody } from './jobs.ts';
import { RingLog } from './ring-log.ts';

const DELIVERY_TIMEOUT_MS = 5000;
/** Waits before each retry, in simulated time (scaled like job durations). */
const RETRY_DELAYS_MS = [1000, 4000];

/** One attempt at delivering one status body. */
export interface WebhookDelivery {
  /** ISO time the POST was sent. */
  at: string;
  requestId: string;
  /** The `status` of the body sent: the job's end, or PROCESSING for a late stale copy. */
  jobStatus: JobStatus;
  /** 1 for the first try of this body, then 2 and 3 for its retries. */
  attempt: number;
  /** Origin of the X-Webhook-URL; its path can hold the receiver's secret, so it is not kept. */
  origin: string;
  /** The receiver's answer; null while in flight and when none came (see `error`). */
  status: number | null;
  /** Why no answer came: 'timeout', 'cancelled' or the network error's code; else null. */
  error: string | null;
}

export type WebhookDeliveryFilter = Partial<
  Pick<WebhookDelivery, 'requestId' | 'jobStatus' | 'attempt' | 'status'>
>;

const finished = (delivery: WebhookDelivery) => delivery.status !== null || delivery.error !== null;

export class WebhookSender {
  readonly #timeScale: number;
  readonly #log: RingLog<WebhookDelivery>;
  /** Checks of pending `waitFor` calls, run whenever an attempt finishes. */
  readonly #waiters = new Set<() => void>();
  #cancel = new AbortController();

  constructor(timeScale: number, logSize: number) {
    this.#timeScale = timeScale;
    this.#log = new RingLog(logSize);
  }

  /** Sends the job's webhook(s) when it ends, as `plan` says. */
  schedule(job: Job, url: string, plan: WebhookPlan, baseUrl: string): void {
    if (plan === 'lost') return;
    const terminal = statusBody(job, job.endsAt, baseUrl);
    const bodies = plan === 'once' ? [terminal] : [terminal, terminal];
    if (plan === 'duplicate-stale') bodies.push(statusBody(job, job.processingAt, baseUrl));
    void this.#deliverAll(url, bodies, job.endsAt - Date.now(), this.#cancel.signal);
  }

  /** Attempts so far (finished or in flight) that match `filter`, oldest first. */
  deliveries(filter: WebhookDeliveryFilter = {}): WebhookDelivery[] {
    return this.#log.entries(filter);
  }

  /** Resolves with the finished attempts that match `filter` once there are `count` or more. */
  waitFor(count: number, filter: WebhookDeliveryFilter = {}): Promise<WebhookDelivery[]> {
    return new Promise((resolve) => {
      const check = () => {
        const done = this.#log.entries(filter).filter(finished);
        if (done.length < count) return;
        this.#waiters.delete(check);
        resolve(done);
      };
      this.#waiters.add(check);
      check();
    });
  }

  clearLog(): void {
    this.#log.clear();
  }

  /** Cancels every pending delivery; later schedules still work. */
  cancelAll(): void {
    this.#cancel.abort();
    this.#cancel = new AbortController();
  }

  async #deliverAll(url: string, bodies: StatusBody[], delayMs: number, signal: AbortSignal) {
    try {
      await sleep(Math.max(0, delayMs), undefined, { signal, ref: false });
      for (const body of bodies) await this.#deliver(url, body, signal);
    } catch {
      // Cancelled: the simulator was closed or reset.
    }
  }

  /** One delivery with retries; gives up quietly, as a lost callback would. */
  async #deliver(url: string, body: StatusBody, signal: AbortSignal): Promise<void> {
    const json = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const delivery = this.#log.record({
        at: new Date().toISOString(),
        requestId: body.request_id,
        jobStatus: body.status,
        attempt,
        origin: new URL(url).origin,
        status: null,
        error: null,
      });
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'pixazo-sim' },
          body: json,
          signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
        });
        await response.body?.cancel();
        delivery.status = response.status;
      } catch (error) {
        delivery.error = signal.aborted ? 'cancelled' : failureOf(error);
      }
      for (const check of [...this.#waiters]) check();
      signal.throwIfAborted();
      if (delivery.status !== null && delivery.status >= 200 && delivery.status < 300) return;
      const retryDelay = RETRY_DELAYS_MS[attempt - 1];
      if (retryDelay === undefined) return;
      await sleep(retryDelay * this.#timeScale, undefined, { signal, ref: false });
    }
  }
}

function failureOf(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? code : String((error as Error).message ?? error);
}

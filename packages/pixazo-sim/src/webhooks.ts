/**
 * Webhook callbacks: when a job with `X-Webhook-URL` ends, its status body is POSTed there.
 * Each delivery has a timeout and a few retries; faults can lose it, send it twice, or follow
 * it with a stale PROCESSING body. Only jobs with a webhook cost a timer, and closing the
 * simulator cancels every pending delivery.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookPlan } from './faults.ts';
import { type Job, statusBody } from './jobs.ts';

const DELIVERY_TIMEOUT_MS = 5000;
/** Waits before each retry, in simulated time (scaled like job durations). */
const RETRY_DELAYS_MS = [1000, 4000];

export class WebhookSender {
  readonly #timeScale: number;
  #cancel = new AbortController();

  constructor(timeScale: number) {
    this.#timeScale = timeScale;
  }

  /** Sends the job's webhook(s) when it ends, as `plan` says. */
  schedule(job: Job, url: string, plan: WebhookPlan, baseUrl: string): void {
    if (plan === 'lost') return;
    const terminal = statusBody(job, job.endsAt, baseUrl);
    const bodies = plan === 'once' ? [terminal] : [terminal, terminal];
    if (plan === 'duplicate-stale') bodies.push(statusBody(job, job.processingAt, baseUrl));
    void this.#deliverAll(url, bodies, job.endsAt - Date.now(), this.#cancel.signal);
  }

  /** Cancels every pending delivery; later schedules still work. */
  cancelAll(): void {
    this.#cancel.abort();
    this.#cancel = new AbortController();
  }

  async #deliverAll(url: string, bodies: unknown[], delayMs: number, signal: AbortSignal) {
    try {
      await sleep(Math.max(0, delayMs), undefined, { signal, ref: false });
      for (const body of bodies) await this.#deliver(url, JSON.stringify(body), signal);
    } catch {
      // Cancelled: the simulator was closed or reset.
    }
  }

  /** One delivery with retries; gives up quietly, as a lost callback would. */
  async #deliver(url: string, body: string, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'pixazo-sim' },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
        });
        await response.body?.cancel();
        if (response.ok) return;
      } catch (error) {
        if (signal.aborted) throw error;
      }
      const retryDelay = RETRY_DELAYS_MS[attempt];
      if (retryDelay === undefined) return;
      await sleep(retryDelay * this.#timeScale, undefined, { signal, ref: false });
    }
  }
}

import type { Faults } from './faults.ts';
import type { ImageCache } from './images.ts';
import type { JobStore } from './jobs.ts';
import type { Random } from './random.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { RequestLog } from './request-log.ts';
import type { Wallet } from './wallet.ts';
import type { WebhookSender } from './webhooks.ts';

/** The state of one running simulator, shared by its route handlers. */
export interface SimContext {
  /** Base of the URLs handed out (polling_url, media_url), e.g. `http://127.0.0.1:4010`. */
  baseUrl: string;
  timeScale: number;
  jobs: JobStore;
  wallet: Wallet;
  faults: Faults;
  rateLimiter: RateLimiter;
  log: RequestLog;
  images: ImageCache;
  webhooks: WebhookSender;
  /** Draws for duration jitter, apart from the fault draws so each sequence stays stable. */
  timingRandom: Random;
  /** Back to the state at start: faults, logs, rate windows, balances, jobs, webhooks. */
  reset(): void;
}

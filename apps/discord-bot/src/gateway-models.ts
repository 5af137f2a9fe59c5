/** The gateway's models, reused for a while: they change with deployments, not per request. */
import type { ModelInfo } from '@zimage/client';
import type { Clock } from './clock.ts';

export class GatewayModels {
  readonly #fetch: () => Promise<ModelInfo[]>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #cached: { models: ModelInfo[]; fetchedAt: number } | undefined;

  constructor(options: { fetch: () => Promise<ModelInfo[]>; clock: Clock; ttlMs?: number }) {
    this.#fetch = options.fetch;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
  }

  async get(): Promise<ModelInfo[]> {
    const cached = this.#cached;
    if (cached && this.#clock.now() - cached.fetchedAt < this.#ttlMs) return cached.models;
    const models = await this.#fetch();
    this.#cached = { models, fetchedAt: this.#clock.now() };
    return models;
  }
}

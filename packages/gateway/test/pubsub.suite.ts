/**
 * The behaviour every PubSub adapter must have; each adapter's test file runs it against a
 * fresh instance (memory now, Redis for scale-out).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent, PubSub } from '../src/pubsub/pubsub.ts';
import { newJob } from './fixtures/records.ts';

export interface PubSubSuiteOptions {
  create(): PubSub | Promise<PubSub>;
  /** For adapters whose subscriptions become live asynchronously (a Redis SUBSCRIBE round trip). */
  settle?(): Promise<void>;
}

export function jobEvent(id: string, version: number): JobEvent {
  return { job: newJob({ id: 'key_test' }, { id, version }) };
}

async function take(events: AsyncIterable<JobEvent>, count: number): Promise<string[]> {
  const seen: string[] = [];
  if (count === 0) return seen;
  for await (const { job } of events) {
    seen.push(`${job.id}@${job.version}`);
    if (seen.length === count) break;
  }
  return seen;
}

export function pubSubSuite(name: string, options: PubSubSuiteOptions): void {
  describe(`PubSub: ${name}`, () => {
    const settle = options.settle ?? (async () => {});
    let pubsub: PubSub;

    afterEach(async () => {
      await pubsub?.close();
    });

    it('delivers what is published after subscribe(), in order, to that topic only', async () => {
      pubsub = await options.create();
      const events = pubsub.subscribe('job:a');
      await settle();
      await pubsub.publish('job:b', jobEvent('b', 1));
      for (let version = 1; version <= 3; version++) {
        await pubsub.publish('job:a', jobEvent('a', version));
      }
      expect(await take(events, 3)).toEqual(['a@1', 'a@2', 'a@3']);
    });

    it('gives every subscriber of a topic every event', async () => {
      pubsub = await options.create();
      const first = pubsub.subscribe('jobs');
      const second = pubsub.subscribe('jobs');
      await settle();
      await pubsub.publish('jobs', jobEvent('a', 1));
      await pubsub.publish('jobs', jobEvent('b', 1));
      expect(await take(first, 2)).toEqual(['a@1', 'b@1']);
      expect(await take(second, 2)).toEqual(['a@1', 'b@1']);
    });

    it('ends the iteration when the signal aborts, also while it waits', async () => {
      pubsub = await options.create();
      const controller = new AbortController();
      const events = pubsub.subscribe('job:a', controller.signal);
      await settle();
      const iterator = events[Symbol.asyncIterator]();
      const waiting = iterator.next();
      controller.abort();
      expect(await waiting).toEqual({ value: undefined, done: true });
      await pubsub.publish('job:a', jobEvent('a', 1));
      expect((await iterator.next()).done).toBe(true);
    });

    it('ends at once for a signal that has already aborted', async () => {
      pubsub = await options.create();
      const events = pubsub.subscribe('job:a', AbortSignal.abort());
      expect(await take(events, 1)).toEqual([]);
    });

    it('keeps serving the others when one subscriber stops reading (break)', async () => {
      pubsub = await options.create();
      const leaving = pubsub.subscribe('job:a');
      const staying = pubsub.subscribe('job:a');
      await settle();
      await pubsub.publish('job:a', jobEvent('a', 1));
      expect(await take(leaving, 1)).toEqual(['a@1']);
      await pubsub.publish('job:a', jobEvent('a', 2));
      expect(await take(staying, 2)).toEqual(['a@1', 'a@2']);
    });

    it('never blocks the publisher for a subscriber that does not read, and keeps the newest', async () => {
      pubsub = await options.create();
      const controller = new AbortController();
      const events = pubsub.subscribe('job:a', controller.signal);
      await settle();
      for (let version = 1; version <= 5000; version++) {
        await pubsub.publish('job:a', jobEvent('a', version));
      }
      const versions: number[] = [];
      for await (const { job } of events) {
        versions.push(job.version);
        if (job.version === 5000) break;
      }
      expect(versions.length).toBeGreaterThan(0);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
    });

    it('ends every subscription on close()', async () => {
      pubsub = await options.create();
      const events = pubsub.subscribe('job:a');
      await settle();
      const waiting = take(events, 1);
      await pubsub.close();
      expect(await waiting).toEqual([]);
    });
  });
}

/**
 * The behaviour every PubSub adapter must have; each adapter's test file runs it against a
 * fresh instance (memory, Redis). A subscription is live once subscribe() resolves, so every
 * test publishes right after awaiting it: nothing here waits for a subscription to settle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isGap, type JobEvent, type PubSub, type TopicEvent } from '../src/pubsub/pubsub.ts';
import { newJob } from './fixtures/records.ts';

export interface PubSubSuiteOptions {
  create(): PubSub | Promise<PubSub>;
}

export function jobEvent(id: string, version: number): JobEvent {
  return { job: newJob({ id: 'key_test' }, { id, version }) };
}

/** `job@version` of the next `count` events; a gap (none may happen here) fails the test. */
export async function take(events: AsyncIterable<TopicEvent>, count: number): Promise<string[]> {
  const seen: string[] = [];
  if (count === 0) return seen;
  for await (const event of events) {
    if (isGap(event)) throw new Error(`unexpected gap since ${event.since.toISOString()}`);
    seen.push(`${event.job.id}@${event.job.version}`);
    if (seen.length === count) break;
  }
  return seen;
}

export function pubSubSuite(name: string, options: PubSubSuiteOptions): void {
  describe(`PubSub: ${name}`, () => {
    let pubsub: PubSub;

    afterEach(async () => {
      await pubsub?.close();
    });

    it('delivers what is published once subscribe() resolves, in order, to that topic only', async () => {
      pubsub = await options.create();
      const events = await pubsub.subscribe('job:a');
      await pubsub.publish('job:b', jobEvent('b', 1));
      for (let version = 1; version <= 3; version++) {
        await pubsub.publish('job:a', jobEvent('a', version));
      }
      expect(await take(events, 3)).toEqual(['a@1', 'a@2', 'a@3']);
    });

    it('delivers the job exactly as published, Dates and all', async () => {
      pubsub = await options.create();
      const events = await pubsub.subscribe('job:full');
      const job = newJob(
        { id: 'key_test' },
        {
          endUserId: 'discord:42',
          idempotencyKey: 'idem',
          guidanceScale: 3.25,
          status: 'COMPLETED',
          submission: 'submitted',
          requestId: 'z-image-turbo_1',
          error: 'ünïcode "quotes" \\ and\nnewlines',
          images: [
            {
              fileName: 'a.png',
              width: 1024,
              height: 1024,
              contentType: 'image/png',
              byteLength: 7,
            },
          ],
          version: 7,
          startedAt: new Date('2025-06-01T10:00:01.234Z'),
          completedAt: new Date('2025-06-01T10:00:09.999Z'),
        },
      );
      await pubsub.publish('job:full', { job });
      const iterator = events[Symbol.asyncIterator]();
      const received = (await iterator.next()).value as JobEvent;
      expect(received).toEqual({ job });
      expect(received.job.completedAt).toBeInstanceOf(Date);
    });

    it('gives every subscriber of a topic every event', async () => {
      pubsub = await options.create();
      const first = await pubsub.subscribe('jobs');
      const second = await pubsub.subscribe('jobs');
      await pubsub.publish('jobs', jobEvent('a', 1));
      await pubsub.publish('jobs', jobEvent('b', 1));
      expect(await take(first, 2)).toEqual(['a@1', 'b@1']);
      expect(await take(second, 2)).toEqual(['a@1', 'b@1']);
    });

    it('ends the iteration when the signal aborts, also while it waits', async () => {
      pubsub = await options.create();
      const controller = new AbortController();
      const events = await pubsub.subscribe('job:a', controller.signal);
      const iterator = events[Symbol.asyncIterator]();
      const waiting = iterator.next();
      controller.abort();
      expect(await waiting).toEqual({ value: undefined, done: true });
      await pubsub.publish('job:a', jobEvent('a', 1));
      expect((await iterator.next()).done).toBe(true);
    });

    it('ends at once for a signal that has already aborted', async () => {
      pubsub = await options.create();
      const events = await pubsub.subscribe('job:a', AbortSignal.abort());
      expect(await take(events, 1)).toEqual([]);
    });

    it('keeps serving the others when one subscriber stops reading (break)', async () => {
      pubsub = await options.create();
      const leaving = await pubsub.subscribe('job:a');
      const staying = await pubsub.subscribe('job:a');
      await pubsub.publish('job:a', jobEvent('a', 1));
      expect(await take(leaving, 1)).toEqual(['a@1']);
      await pubsub.publish('job:a', jobEvent('a', 2));
      expect(await take(staying, 2)).toEqual(['a@1', 'a@2']);
    });

    it('serves a new subscriber of a topic whose last subscriber just left', async () => {
      pubsub = await options.create();
      const controller = new AbortController();
      await pubsub.subscribe('job:again', controller.signal);
      controller.abort();
      const again = await pubsub.subscribe('job:again');
      await pubsub.publish('job:again', jobEvent('again', 1));
      expect(await take(again, 1)).toEqual(['again@1']);
    });

    it('never blocks the publisher for a subscriber that does not read, and keeps the newest', async () => {
      pubsub = await options.create();
      const controller = new AbortController();
      const events = await pubsub.subscribe('job:a', controller.signal);
      // All at once: every publish resolves while nobody reads.
      await Promise.all(
        Array.from({ length: 5000 }, (_, i) => pubsub.publish('job:a', jobEvent('a', i + 1))),
      );
      const versions: number[] = [];
      for await (const event of events) {
        if (isGap(event)) throw new Error('unexpected gap');
        versions.push(event.job.version);
        if (event.job.version === 5000) break;
      }
      expect(versions.length).toBeGreaterThan(0);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
    });

    it('ends every subscription on close()', async () => {
      pubsub = await options.create();
      const events = await pubsub.subscribe('job:a');
      const waiting = take(events, 1);
      await pubsub.close();
      expect(await waiting).toEqual([]);
    });
  });
}

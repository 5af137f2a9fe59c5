import { describe, expect, it } from 'vitest';
import {
  SharedSubscriptions,
  type SubscriberSink,
} from '../src/subscriptions/shared-subscriptions.ts';

/** A source the test drives by hand; `returned` tells whether its consumer stopped it. */
function channel<T>() {
  const buffered: IteratorResult<T>[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | null = null;
  let failure: ((error: unknown) => void) | null = null;
  const state = { returned: false };
  const deliver = (result: IteratorResult<T>) => {
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve(result);
    } else buffered.push(result);
  };
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      const result = buffered.shift();
      if (result) return Promise.resolve(result);
      return new Promise((resolve, reject) => {
        waiting = resolve;
        failure = reject;
      });
    },
    return: () => {
      state.returned = true;
      deliver({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    iterator,
    state,
    push: (value: T) => deliver({ value, done: false }),
    end: () => deliver({ value: undefined, done: true }),
    fail: (error: unknown) => failure?.(error),
  };
}

async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const values: T[] = [];
  for (let i = 0; i < count; i++) {
    const step = await iterator.next();
    if (step.done) break;
    values.push(step.value);
  }
  return values;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SharedSubscriptions', () => {
  it('starts one source for many subscribers of a key and gives each every value', async () => {
    const shared = new SharedSubscriptions<number>();
    const source = channel<number>();
    let starts = 0;
    const start = () => {
      starts++;
      return source.iterator;
    };
    const subscribers = Array.from({ length: 50 }, () =>
      shared.join('k', start, { replayLatest: false }),
    );
    expect(shared.sourceCount).toBe(1);
    expect(shared.subscriberCount).toBe(50);
    source.push(1);
    source.push(2);
    source.end();
    for (const subscriber of subscribers) expect(await take(subscriber, 3)).toEqual([1, 2]);
    expect(starts).toBe(1);
    await tick();
    expect(shared.sourceCount).toBe(0);
    expect(shared.subscriberCount).toBe(0);
  });

  it('keeps distinct keys apart', async () => {
    const shared = new SharedSubscriptions<string>();
    const a = channel<string>();
    const b = channel<string>();
    const onA = shared.join('a', () => a.iterator, { replayLatest: false });
    const onB = shared.join('b', () => b.iterator, { replayLatest: false });
    a.push('from a');
    b.push('from b');
    expect(await take(onA, 1)).toEqual(['from a']);
    expect(await take(onB, 1)).toEqual(['from b']);
    expect(shared.sourceCount).toBe(2);
  });

  it('replays the latest value to a late joiner only when asked to', async () => {
    const shared = new SharedSubscriptions<string>();
    const source = channel<string>();
    const first = shared.join('k', () => source.iterator, { replayLatest: true });
    source.push('current');
    expect(await take(first, 1)).toEqual(['current']);
    const replayed = shared.join('k', () => source.iterator, { replayLatest: true });
    const notReplayed = shared.join('k', () => source.iterator, { replayLatest: false });
    source.push('next');
    expect(await take(replayed, 2)).toEqual(['current', 'next']);
    expect(await take(notReplayed, 1)).toEqual(['next']);
  });

  it('stops the source when the last subscriber leaves, and starts afresh afterwards', async () => {
    const shared = new SharedSubscriptions<number>();
    const first = channel<number>();
    const one = shared.join('k', () => first.iterator, { replayLatest: false });
    const two = shared.join('k', () => first.iterator, { replayLatest: false });
    await tick();
    await one.return?.();
    expect(first.state.returned).toBe(false);
    await two.return?.();
    expect(first.state.returned).toBe(true);
    expect(shared.sourceCount).toBe(0);
    expect(shared.subscriberCount).toBe(0);

    const second = channel<number>();
    const three = shared.join('k', () => second.iterator, { replayLatest: true });
    second.push(7);
    expect(await take(three, 1)).toEqual([7]);
  });

  it('passes a source error to every subscriber', async () => {
    const shared = new SharedSubscriptions<number>();
    const source = channel<number>();
    const subscribers = [1, 2, 3].map(() =>
      shared.join('k', () => source.iterator, { replayLatest: false }),
    );
    await tick();
    source.fail(new Error('boom'));
    for (const subscriber of subscribers) await expect(subscriber.next()).rejects.toThrow('boom');
  });

  it('rejects the pending next() of subscribers parked on it when the source fails', async () => {
    const shared = new SharedSubscriptions<number>();
    const source = channel<number>();
    const subscribers = [1, 2].map(() =>
      shared.join('k', () => source.iterator, { replayLatest: false }),
    );
    await tick();
    const pending = subscribers.map((subscriber) => subscriber.next());
    source.fail(new Error('boom'));
    for (const next of pending) await expect(next).rejects.toThrow('boom');
    expect(shared.subscriberCount).toBe(0);
    expect(shared.sourceCount).toBe(0);
  });

  it('gives a single (non-stream) result to every waiting subscriber, then ends them', async () => {
    const shared = new SharedSubscriptions<{ errors: string[] }>();
    let starts = 0;
    const start = async () => {
      starts++;
      return { errors: ['NOT_FOUND'] };
    };
    const subscribers = [1, 2].map(() => shared.join('k', start, { replayLatest: true }));
    for (const subscriber of subscribers) {
      expect(await take(subscriber, 2)).toEqual([{ errors: ['NOT_FOUND'] }]);
    }
    expect(starts).toBe(1);
    await tick();
    expect(shared.sourceCount).toBe(0);
  });

  it('bounds what a slow subscriber holds, keeping the newest values', async () => {
    const shared = new SharedSubscriptions<number>();
    const source = channel<number>();
    const slow = shared.join('k', () => source.iterator, { replayLatest: false });
    for (let i = 1; i <= 100; i++) source.push(i);
    source.end();
    await tick();
    const received = await take(slow, 200);
    expect(received.length).toBeLessThan(100);
    expect(received.at(-1)).toBe(100);
  });

  describe('piped subscribers', () => {
    /** A sink that records what it is told; `resume` is the test's to call (the write done). */
    function sink() {
      const got: Array<number | 'end' | { error: unknown }> = [];
      const ended = { resolve: () => {} };
      const end = new Promise<void>((resolve) => {
        ended.resolve = resolve;
      });
      const target: SubscriberSink<number> = {
        next: (value) => got.push(value),
        end(error) {
          got.push(error ? { error: error.value } : 'end');
          ended.resolve();
        },
      };
      return { target, got, end };
    }

    it('hands each value to the sink as the source yields it, the next once the sink resumes', async () => {
      const shared = new SharedSubscriptions<number>();
      const source = channel<number>();
      const subscriber = shared.join('k', () => source.iterator, { replayLatest: true });
      const { target, got } = sink();
      subscriber.pipe(target);
      source.push(1);
      await tick();
      expect(got).toEqual([1]);
      // Not resumed yet: 2 and 3 wait in the subscriber's queue.
      source.push(2);
      source.push(3);
      await tick();
      expect(got).toEqual([1]);
      subscriber.resume();
      expect(got).toEqual([1, 2]);
      subscriber.resume();
      subscriber.resume();
      expect(got).toEqual([1, 2, 3]);
      // Idle again: the next value goes out at once.
      source.push(4);
      await tick();
      expect(got).toEqual([1, 2, 3, 4]);
      await subscriber.return();
    });

    it('gives a late joiner the latest value first, then the live ones', async () => {
      const shared = new SharedSubscriptions<number>();
      const source = channel<number>();
      const first = shared.join('k', () => source.iterator, { replayLatest: true });
      const firstValue = first.next();
      await tick();
      source.push(5);
      expect(await firstValue).toEqual({ value: 5, done: false });
      const joiner = shared.join('k', () => source.iterator, { replayLatest: true });
      const { target, got } = sink();
      joiner.pipe(target);
      expect(got).toEqual([5]);
      joiner.resume();
      source.push(6);
      await tick();
      expect(got).toEqual([5, 6]);
      await joiner.return();
      await first.return();
    });

    it('ends the sink after the values it still has to take; with the error of a failed source', async () => {
      const shared = new SharedSubscriptions<number>();
      const source = channel<number>();
      const subscriber = shared.join('k', () => source.iterator, { replayLatest: false });
      const { target, got, end } = sink();
      subscriber.pipe(target);
      source.push(1);
      source.push(2);
      source.end();
      await tick();
      expect(got).toEqual([1]);
      subscriber.resume();
      subscriber.resume();
      await end;
      expect(got).toEqual([1, 2, 'end']);

      const failing = channel<number>();
      const failed = sink();
      shared.join('f', () => failing.iterator, { replayLatest: false }).pipe(failed.target);
      await tick();
      failing.fail(new Error('source broke'));
      await failed.end;
      expect(failed.got).toEqual([{ error: new Error('source broke') }]);
    });

    it('ends the sink and leaves the source when the client leaves; the last one stops it', async () => {
      const shared = new SharedSubscriptions<number>();
      const source = channel<number>();
      const subscriber = shared.join('k', () => source.iterator, { replayLatest: false });
      const { target, got, end } = sink();
      subscriber.pipe(target);
      await tick();
      await subscriber.return();
      await end;
      expect(got).toEqual(['end']);
      expect(shared.subscriberCount).toBe(0);
      expect(source.state.returned).toBe(true);
    });

    it('bounds what a busy sink leaves queued, keeping the newest values', async () => {
      const shared = new SharedSubscriptions<number>();
      const source = channel<number>();
      const subscriber = shared.join('k', () => source.iterator, { replayLatest: false });
      const { target, got, end } = sink();
      subscriber.pipe(target);
      for (let i = 1; i <= 100; i++) source.push(i);
      source.end();
      await tick();
      while (!got.includes('end')) subscriber.resume();
      await end;
      expect(got.length).toBeLessThan(100);
      expect(got.slice(-2)).toEqual([100, 'end']);
    });
  });
});

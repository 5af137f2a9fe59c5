import { describe, expect, it } from 'vitest';
import { createSubmissionQueue } from '../src/jobs/submission-queue.ts';

function setup(maxConcurrency: number) {
  const dispatched: string[] = [];
  const moves: string[][] = [];
  const queue = createSubmissionQueue({
    maxConcurrency,
    dispatch: (jobId) => dispatched.push(jobId),
    onPositionsChanged: (jobIds) => moves.push(jobIds),
  });
  return { queue, dispatched, moves };
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('submission queue', () => {
  it('dispatches in arrival order, at most maxConcurrency at a time', () => {
    const { queue, dispatched } = setup(2);
    queue.start();
    for (const id of ['a', 'b', 'c', 'd']) queue.enqueue(id);
    expect(dispatched).toEqual(['a', 'b']);
    expect([queue.position('c'), queue.position('d'), queue.position('a')]).toEqual([1, 2, null]);
    queue.release('b');
    expect(dispatched).toEqual(['a', 'b', 'c']);
    expect(queue.position('d')).toBe(1);
    queue.release('b');
    expect(dispatched).toEqual(['a', 'b', 'c']);
  });

  it('dispatches nothing before start or while paused, and keeps the order', () => {
    const { queue, dispatched } = setup(1);
    queue.enqueue('a');
    queue.enqueue('b');
    expect(dispatched).toEqual([]);
    queue.start();
    expect(dispatched).toEqual(['a']);
    queue.pause();
    queue.release('a');
    expect(dispatched).toEqual(['a']);
    queue.start();
    expect(dispatched).toEqual(['a', 'b']);
  });

  it('counts resumed jobs against the cap', () => {
    const { queue, dispatched } = setup(1);
    queue.occupy('old');
    queue.start();
    queue.enqueue('new');
    expect(dispatched).toEqual([]);
    expect(queue.inFlightCount).toBe(1);
    queue.release('old');
    expect(dispatched).toEqual(['new']);
  });

  it('tells once per tick which waiting jobs moved', async () => {
    const { queue, moves } = setup(1);
    queue.start();
    for (const id of ['a', 'b', 'c', 'd']) queue.enqueue(id);
    await tick();
    expect(moves).toEqual([]);
    expect(queue.remove('c')).toBe(true);
    expect(queue.remove('c')).toBe(false);
    queue.release('a');
    await tick();
    expect(moves).toEqual([['d']]);
    expect(queue.position('d')).toBe(1);
    expect(queue.waitingCount).toBe(1);
  });

  it('rejects a cap below one', () => {
    expect(() => setup(0)).toThrow(RangeError);
  });
});

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

  it('holds while its gate says no, keeping order and positions, until woken', () => {
    let open = false;
    const asked: string[] = [];
    const dispatched: string[] = [];
    const queue = createSubmissionQueue({
      maxConcurrency: 2,
      dispatch: (jobId) => dispatched.push(jobId),
      onPositionsChanged: () => {},
      mayDispatch: (jobId) => {
        asked.push(jobId);
        return open;
      },
    });
    queue.start();
    for (const id of ['a', 'b', 'c']) queue.enqueue(id);
    expect(dispatched).toEqual([]);
    expect(['a', 'b', 'c'].map((id) => queue.position(id))).toEqual([1, 2, 3]);
    // Only the head is ever asked about: the gate decides for the next job to go.
    expect(new Set(asked)).toEqual(new Set(['a']));

    queue.wake();
    expect(dispatched).toEqual([]);
    open = true;
    queue.wake();
    expect(dispatched).toEqual(['a', 'b']);
    expect(queue.position('c')).toBe(1);
  });

  it('lets the gate pass one job at a time (a probe), without asking past the cap', () => {
    let allowance = 1;
    const dispatched: string[] = [];
    const queue = createSubmissionQueue({
      maxConcurrency: 3,
      dispatch: (jobId) => dispatched.push(jobId),
      onPositionsChanged: () => {},
      mayDispatch: () => {
        if (allowance === 0) return false;
        allowance--;
        return true;
      },
    });
    queue.start();
    for (const id of ['a', 'b', 'c', 'd']) queue.enqueue(id);
    expect(dispatched).toEqual(['a']);
    allowance = Number.POSITIVE_INFINITY;
    queue.wake();
    expect(dispatched).toEqual(['a', 'b', 'c']);
  });

  it('does not dispatch on wake while paused', () => {
    const { queue, dispatched } = setup(1);
    queue.enqueue('a');
    queue.wake();
    expect(dispatched).toEqual([]);
  });

  it('rejects a cap below one', () => {
    expect(() => setup(0)).toThrow(RangeError);
  });
});

import { afterEach, beforeEach, expect, it } from 'vitest';
import { isTerminal, type JobRecord } from '../src/domain/job.ts';
import { topics } from '../src/pubsub/pubsub.ts';
import { type Harness, published, startHarness, waitForJob } from './helpers/engine-harness.ts';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

const turbo = { prompt: 'a paper boat', imageSize: 'portrait_3_4' } as const;

it('sends jobs in arrival order, never more than maxConcurrency at Pixazo, and moves queuePosition', async () => {
  const principal = await h.principal();
  const engine = h.engine({ maxConcurrency: 2 });
  const controller = new AbortController();
  const events = await published(h.pubsub, topics.all(), controller.signal);

  const jobs: JobRecord[] = [];
  const atPixazo = new Set<string>();
  let mostAtPixazo = 0;
  const sentInOrder: string[] = [];
  const pendingEvents = new Map<string, number>();
  const positions = new Map<string, (number | null)[]>();
  const watching = (async () => {
    const ended = new Set<string>();
    for await (const job of events) {
      if (job.submission === 'pending' && !isTerminal(job.status)) {
        pendingEvents.set(job.id, (pendingEvents.get(job.id) ?? 0) + 1);
        const position = await engine.queuePosition(job.id);
        positions.set(job.id, [...(positions.get(job.id) ?? []), position]);
      }
      if (job.submission === 'submitting') sentInOrder.push(job.id);
      if (job.submission !== 'pending' && !isTerminal(job.status)) atPixazo.add(job.id);
      if (isTerminal(job.status)) {
        atPixazo.delete(job.id);
        ended.add(job.id);
      }
      mostAtPixazo = Math.max(mostAtPixazo, atPixazo.size);
      if (ended.size === 5) return;
    }
  })();

  for (let i = 0; i < 5; i++) jobs.push(await engine.generate(principal, turbo));
  expect(await Promise.all(jobs.map((job) => engine.queuePosition(job.id)))).toEqual([
    1, 2, 3, 4, 5,
  ]);
  await engine.start();
  for (const job of jobs) expect((await waitForJob(h, job.id)).status).toBe('COMPLETED');
  await watching;
  controller.abort();

  expect(mostAtPixazo).toBe(2);
  expect(sentInOrder).toEqual(jobs.map((job) => job.id));
  expect(h.sim.countRequests({ route: 'submit' })).toBe(5);
  // Jobs 3-5 waited, and were published again as the jobs ahead of them were sent (notices
  // of one tick are batched, so how many times depends on timing).
  const republished = jobs.map((job) => (pendingEvents.get(job.id) ?? 0) > 1);
  expect(republished).toEqual([false, false, true, true, true]);
  // Every job's first event already showed its place in the queue (read as it arrived).
  expect(jobs.map((job) => positions.get(job.id)?.[0])).toEqual([1, 2, 3, 4, 5]);
  for (const seen of positions.values()) {
    const numbers = seen.filter((p) => p !== null);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
  }
  for (const job of jobs) expect(await engine.queuePosition(job.id)).toBeNull();
});

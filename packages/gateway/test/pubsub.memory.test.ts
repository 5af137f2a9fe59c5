import { expect, it } from 'vitest';
import { createMemoryPubSub } from '../src/pubsub/memory.ts';
import { jobEvent, pubSubSuite } from './pubsub.suite.ts';

pubSubSuite('memory', { create: () => createMemoryPubSub() });

it('drops the oldest buffered events past the buffer size', async () => {
  const pubsub = createMemoryPubSub({ bufferSize: 2 });
  const events = (await pubsub.subscribe('job:a'))[Symbol.asyncIterator]();
  for (const version of [1, 2, 3]) {
    await pubsub.publish('job:a', jobEvent('a', version));
  }
  expect((await events.next()).value).toEqual(jobEvent('a', 2));
  expect((await events.next()).value).toEqual(jobEvent('a', 3));
  await pubsub.close();
  expect((await events.next()).done).toBe(true);
});

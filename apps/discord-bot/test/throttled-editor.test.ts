import { describe, expect, it } from 'vitest';
import { ThrottledEditor } from '../src/throttled-editor.ts';
import { FakeClock } from './helpers/fake-clock.ts';

describe('ThrottledEditor', () => {
  function editorWithLog(clock: FakeClock) {
    const sent: { value: string; at: number }[] = [];
    const editor = new ThrottledEditor<string>({
      clock,
      send: async (value) => {
        sent.push({ value, at: clock.now() });
      },
    });
    return { editor, sent };
  }

  it('sends at most one edit every 2 s, the newest state winning', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const { editor, sent } = editorWithLog(clock);
    editor.push('queued #3');
    await clock.advance(500);
    editor.push('queued #2');
    await clock.advance(500);
    editor.push('queued #1');
    await clock.advance(999);
    expect(sent).toEqual([{ value: 'queued #3', at: t0 }]);
    await clock.advance(1);
    expect(sent).toEqual([
      { value: 'queued #3', at: t0 },
      { value: 'queued #1', at: t0 + 2_000 },
    ]);
  });

  it('always sends the final state, last, after the interval', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const { editor, sent } = editorWithLog(clock);
    editor.push('processing');
    await clock.advance(100);
    let finished = false;
    const done = editor.finish('completed').then(() => {
      finished = true;
    });
    editor.push('too late');
    await clock.advance(1_000);
    expect(finished).toBe(false);
    await clock.advance(900);
    await done;
    expect(sent).toEqual([
      { value: 'processing', at: t0 },
      { value: 'completed', at: t0 + 2_000 },
    ]);
  });

  it('waits for a slow edit before the next, so edits never overtake each other', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    let release: () => void = () => {};
    const editor = new ThrottledEditor<string>({
      clock,
      send: (value) => {
        order.push(`start ${value}`);
        return value === 'first'
          ? new Promise<void>((resolve) => {
              release = () => {
                order.push('end first');
                resolve();
              };
            })
          : Promise.resolve();
      },
    });
    editor.push('first');
    const done = editor.finish('final');
    await clock.advance(5_000);
    expect(order).toEqual(['start first']);
    release();
    await clock.advance(0);
    await done;
    expect(order).toEqual(['start first', 'end first', 'start final']);
  });

  it('keeps going after a failed edit', async () => {
    const clock = new FakeClock();
    const sent: string[] = [];
    const editor = new ThrottledEditor<string>({
      clock,
      send: async (value) => {
        if (value === 'boom') throw new Error('Discord said no');
        sent.push(value);
      },
    });
    editor.push('boom');
    const done = editor.finish('final');
    await clock.advance(2_000);
    await done;
    expect(sent).toEqual(['final']);
  });
});

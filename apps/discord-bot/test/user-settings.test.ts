import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnfinishedJobs } from '../src/unfinished-jobs.ts';
import { UserSettings } from '../src/user-settings.ts';

const ALICE = '1400000000000000010';
const BOB = '1400000000000000011';

describe('UserSettings', () => {
  it('keeps each user’s defaults in the bot’s file across a reopen; updates merge', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zimage-bot-'));
    const unfinished = UnfinishedJobs.open(dir);
    const first = new UserSettings(unfinished.path);
    expect(first.get(ALICE)).toEqual({});
    first.update(ALICE, { model: 'Z_IMAGE_BASE', size: 'LANDSCAPE_16_9' });
    expect(first.update(ALICE, { format: 'WEBP' })).toEqual({
      model: 'Z_IMAGE_BASE',
      size: 'LANDSCAPE_16_9',
      format: 'WEBP',
    });
    first.update(BOB, { size: 'PORTRAIT_3_4' });
    first.close();
    unfinished.close();

    const again = new UserSettings(UnfinishedJobs.open(dir).path);
    expect(again.get(ALICE)).toEqual({
      model: 'Z_IMAGE_BASE',
      size: 'LANDSCAPE_16_9',
      format: 'WEBP',
    });
    again.clear(ALICE);
    expect(again.get(ALICE)).toEqual({});
    expect(again.get(BOB)).toEqual({ size: 'PORTRAIT_3_4' });
    again.close();
  });
});

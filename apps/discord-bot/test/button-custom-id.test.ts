import { describe, expect, it } from 'vitest';
import { buttonCustomId, parseButtonCustomId } from '../src/button-custom-id.ts';
import { gatewayJob, OWNER_ID } from './helpers/fixtures.ts';

describe('button custom ids', () => {
  it('carry the action, the job and its owner, within Discord’s 100 characters', () => {
    const target = { action: 'reroll', jobId: gatewayJob().id, ownerId: OWNER_ID } as const;
    const id = buttonCustomId(target);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(parseButtonCustomId(id)).toEqual(target);
  });

  it.each([
    'other-bot:thing',
    'zimage:explode:job_1:1',
    'zimage:reroll:job_1',
    'zimage:reroll:a:b:c',
  ])('reject %s', (customId) => {
    expect(parseButtonCustomId(customId)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { buttonCustomId, JOB_ACTIONS, parseButtonCustomId } from '../src/button-custom-id.ts';
import { gatewayJob, OWNER_ID } from './helpers/fixtures.ts';

describe('button custom ids', () => {
  it.each(JOB_ACTIONS)(
    '%s carries the action, the job and its owner, within Discord’s 100 characters',
    (action) => {
      const target = { action, jobId: gatewayJob().id, ownerId: OWNER_ID };
      const id = buttonCustomId(target);
      expect(id.length).toBeLessThanOrEqual(100);
      expect(parseButtonCustomId(id)).toEqual(target);
    },
  );

  it('a history page carries its number and its owner', () => {
    const target = { action: 'history', page: 3, ownerId: OWNER_ID } as const;
    expect(buttonCustomId(target)).toBe(`zimage:history:3:${OWNER_ID}`);
    expect(parseButtonCustomId(buttonCustomId(target))).toEqual(target);
  });

  it('still reads the ids of buttons posted by earlier versions', () => {
    expect(parseButtonCustomId(`zimage:vary:job_1:${OWNER_ID}`)).toEqual({
      action: 'vary',
      jobId: 'job_1',
      ownerId: OWNER_ID,
    });
  });

  it.each([
    'other-bot:thing',
    'zimage:explode:job_1:1',
    'zimage:reroll:job_1',
    'zimage:reroll:a:b:c',
    'zimage:history:-1:1',
    'zimage:history:two:1',
  ])('reject %s', (customId) => {
    expect(parseButtonCustomId(customId)).toBeNull();
  });
});

/**
 * The custom id of the buttons under a result. Everything a button needs is in it (Discord
 * keeps it with the message), so buttons work after the bot restarts and the owner check
 * needs no lookup before the 3-second deadline.
 */
export const BUTTON_ACTIONS = ['reroll', 'vary', 'switch', 'details', 'delete'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export interface ButtonTarget {
  action: ButtonAction;
  jobId: string;
  /** The Discord user the job belongs to: only they may spend on it or delete it. */
  ownerId: string;
}

const CUSTOM_ID_PREFIX = 'zimage';

export function buttonCustomId({ action, jobId, ownerId }: ButtonTarget): string {
  return [CUSTOM_ID_PREFIX, action, jobId, ownerId].join(':');
}

export function parseButtonCustomId(customId: string): ButtonTarget | null {
  const [prefix, action, jobId, ownerId, ...rest] = customId.split(':');
  if (prefix !== CUSTOM_ID_PREFIX || rest.length > 0 || !jobId || !ownerId) return null;
  if (!(BUTTON_ACTIONS as readonly string[]).includes(action ?? '')) return null;
  return { action: action as ButtonAction, jobId, ownerId };
}

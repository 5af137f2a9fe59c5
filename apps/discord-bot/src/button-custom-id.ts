/**
 * The custom id of the bot's buttons and modals. Everything a click needs is in it (Discord
 * keeps it with the message), so buttons work after the bot restarts and the owner check
 * needs no lookup before the 3-second deadline: `zimage:<action>:<job id>:<owner>` under a
 * job, `zimage:history:<page>:<owner>` under a /history page.
 */
export const JOB_ACTIONS = [
  'reroll',
  'vary',
  'switch',
  'edit',
  'cancel',
  'details',
  'delete',
] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

export type ButtonTarget =
  | {
      action: JobAction;
      jobId: string;
      /** The Discord user the job belongs to: only they may spend on it or delete it. */
      ownerId: string;
    }
  | { action: 'history'; page: number; ownerId: string };

const CUSTOM_ID_PREFIX = 'zimage';
const HISTORY = 'history';

export function buttonCustomId(target: ButtonTarget): string {
  const subject = target.action === HISTORY ? String(target.page) : target.jobId;
  return [CUSTOM_ID_PREFIX, target.action, subject, target.ownerId].join(':');
}

export function parseButtonCustomId(customId: string): ButtonTarget | null {
  const [prefix, action, subject, ownerId, ...rest] = customId.split(':');
  if (prefix !== CUSTOM_ID_PREFIX || rest.length > 0 || !subject || !ownerId) return null;
  if (action === HISTORY) {
    const page = Number(subject);
    return Number.isSafeInteger(page) && page >= 0 ? { action, page, ownerId } : null;
  }
  if (!(JOB_ACTIONS as readonly string[]).includes(action ?? '')) return null;
  return { action: action as JobAction, jobId: subject, ownerId };
}

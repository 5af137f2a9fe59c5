/** What each API key scope allows, in the words of PRODUCT.md. */
import type { Scope } from '@zimage/contract';

export const SCOPE_HINTS: Record<Scope, string> = {
  generate: 'start and cancel jobs',
  read: 'see its own jobs and usage',
  admin: 'everything (implies the others): every job, the keys, the usage reports',
  'act-as': 'act for end users (a bot), with per-end-user limits',
};

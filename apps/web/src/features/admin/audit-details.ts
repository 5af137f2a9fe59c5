/**
 * An audit entry's details (JSON, limits in micro-USD and models as lowercase keys, as the
 * gateway records them) in words: what a key was created with, or which limits changed how.
 */
import type { AuditEntry } from '../../graphql/admin-operations.ts';
import { formatUsd } from '../../ui/format.ts';
import { enumLabel } from '../../ui/labels.ts';
import { usdOfMicro } from '../../ui/money.ts';
import { LIMIT_FIELDS } from './limits-form.ts';

const MICRO_USD = /MicroUsd$/;

/** `dailyBudgetMicroUsd` → "Daily budget (USD)", `endUserMaxConcurrentJobs` → "Each end user: …". */
function limitName(name: string): string {
  if (name === 'allowedModels') return 'Allowed models';
  const field = LIMIT_FIELDS.find((limit) => limit.name === name.replace(MICRO_USD, 'Usd'));
  if (!field) return name;
  const label = field.label.replace(' (USD)', '');
  return field.scope === 'end user' ? `Each end user: ${label.toLowerCase()}` : label;
}

function limitValue(name: string, value: unknown): string {
  if (value === null || value === undefined)
    return name === 'allowedModels' ? 'every model' : 'none';
  if (Array.isArray(value)) return value.map((model) => enumLabel(String(model))).join(', ');
  if (typeof value === 'number' && MICRO_USD.test(name)) return formatUsd(usdOfMicro(value));
  return String(value);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function describeAuditDetails(entry: Pick<AuditEntry, 'action' | 'details'>): string[] {
  let details: unknown;
  try {
    details = JSON.parse(entry.details);
  } catch {
    return [entry.details];
  }
  if (!isRecord(details)) return [];
  if (entry.action === 'CREATE_API_KEY') {
    const scopes = Array.isArray(details.scopes) ? details.scopes.join(', ') : '';
    const limits = isRecord(details.limits) ? details.limits : {};
    const set = Object.entries(limits).filter(([, value]) => value !== null);
    return [
      `Scopes: ${scopes}`,
      set.length > 0
        ? set.map(([name, value]) => `${limitName(name)} ${limitValue(name, value)}`).join('; ')
        : 'No limits',
    ];
  }
  if (entry.action === 'UPDATE_API_KEY_LIMITS') {
    return Object.entries(details).map(([name, change]) => {
      const { from, to } = isRecord(change) ? change : { from: undefined, to: undefined };
      return `${limitName(name)}: ${limitValue(name, from)} → ${limitValue(name, to)}`;
    });
  }
  return [];
}

/**
 * Every API key of the gateway: a table of names, scopes, limits, today's and this month's
 * spend against the budgets, last use and revocation, with the actions on each.
 */
import { useEffect, useRef, useState } from 'react';
import type { ApiKey } from '../../graphql/admin-operations.ts';
import { BudgetMeter } from '../../ui/budget-meter.tsx';
import { formatDateTime, formatUsd, formatWhen } from '../../ui/format.ts';
import { ScrollRegion } from '../../ui/scroll-region.tsx';
import { useViewer } from '../usage/use-usage.ts';
import { CreateKeyDialog } from './create-key-dialog.tsx';
import { EditLimitsDialog } from './edit-limits-dialog.tsx';
import { summarizeLimits } from './limits-summary.ts';
import { Pager } from './pager.tsx';
import { RevokeKeyDialog } from './revoke-key-dialog.tsx';
import { useApiKeys } from './use-api-keys.ts';

type OpenDialog =
  | { kind: 'create' }
  | { kind: 'edit'; apiKey: ApiKey }
  | { kind: 'revoke'; apiKey: ApiKey }
  | null;

export function KeysPanel() {
  const { keys, page, hasOlder, hasNewer, showOlder, showNewer, loading, initialLoading, error } =
    useApiKeys();
  const { viewer } = useViewer();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const close = () => setDialog(null);
  // A revoked key's row loses its buttons, the revoke button included: the focus goes to the
  // panel's heading instead of being lost when the dialog closes.
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [focusHeading, setFocusHeading] = useState(false);
  useEffect(() => {
    if (focusHeading && dialog === null) {
      headingRef.current?.focus();
      setFocusHeading(false);
    }
  }, [focusHeading, dialog]);
  // The viewer has no key id; its name and prefix tell its row apart.
  const isOwnKey = (apiKey: ApiKey) =>
    viewer !== null && apiKey.keyPrefix === viewer.keyPrefix && apiKey.name === viewer.name;

  return (
    <section className="panel" aria-labelledby="keys-heading">
      <div className="panel-head">
        <h2 id="keys-heading" ref={headingRef} tabIndex={-1}>
          API keys
          {(hasOlder || hasNewer) && <span className="count">page {page}</span>}
        </h2>
        <button
          type="button"
          className="button primary small"
          onClick={() => setDialog({ kind: 'create' })}
        >
          Create key
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {keys.length === 0 ? (
        <p className="muted">{initialLoading ? 'Loading keys…' : 'No keys yet.'}</p>
      ) : (
        <ScrollRegion label="Table of API keys, newest first">
          <table className="data-table keys-table" aria-busy={loading}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Limits</th>
                <th scope="col" className="number">
                  Today
                </th>
                <th scope="col" className="number">
                  This month
                </th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((apiKey) => (
                <KeyRow
                  key={apiKey.id}
                  apiKey={apiKey}
                  isOwnKey={isOwnKey(apiKey)}
                  onEdit={() => setDialog({ kind: 'edit', apiKey })}
                  onRevoke={() => setDialog({ kind: 'revoke', apiKey })}
                />
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <Pager
        label="API keys"
        hasNewer={hasNewer}
        hasOlder={hasOlder}
        onNewer={showNewer}
        onOlder={showOlder}
      />
      {dialog?.kind === 'create' && <CreateKeyDialog onClose={close} />}
      {dialog?.kind === 'edit' && <EditLimitsDialog apiKey={dialog.apiKey} onClose={close} />}
      {dialog?.kind === 'revoke' && (
        <RevokeKeyDialog
          apiKey={dialog.apiKey}
          isOwnKey={isOwnKey(dialog.apiKey)}
          onRevoked={() => setFocusHeading(true)}
          onClose={close}
        />
      )}
    </section>
  );
}

function KeyRow({
  apiKey,
  isOwnKey,
  onEdit,
  onRevoke,
}: {
  apiKey: ApiKey;
  isOwnKey: boolean;
  onEdit(): void;
  onRevoke(): void;
}) {
  const limits = summarizeLimits(apiKey.limits);
  const revoked = apiKey.revokedAt !== null;
  return (
    <tr className={revoked ? 'key-row revoked' : 'key-row'}>
      <th scope="row" className="key-cell">
        <span className="key-name">{apiKey.name}</span>
        <code className="key-prefix">{apiKey.keyPrefix}…</code>
        {isOwnKey && <span className="hint"> (this key)</span>}
      </th>
      <td>
        <ul className="tag-list">
          {apiKey.scopes.map((scope) => (
            <li key={scope} className="tag">
              {scope}
            </li>
          ))}
        </ul>
      </td>
      <td className="limits-cell">
        {limits.length > 0 ? (
          limits.map((line) => <div key={line}>{line}</div>)
        ) : (
          <span className="muted">None</span>
        )}
      </td>
      <td className="number">
        <Spend
          spentUsd={apiKey.spentTodayUsd}
          budgetUsd={apiKey.limits.dailyBudgetUsd}
          label={`Share of the daily budget of ${apiKey.name} spent`}
        />
      </td>
      <td className="number">
        <Spend
          spentUsd={apiKey.spentThisMonthUsd}
          budgetUsd={apiKey.limits.monthlyBudgetUsd}
          label={`Share of the monthly budget of ${apiKey.name} spent`}
        />
      </td>
      <td>
        {apiKey.lastUsedAt ? (
          <time dateTime={apiKey.lastUsedAt} title={formatDateTime(apiKey.lastUsedAt)}>
            {formatWhen(apiKey.lastUsedAt)}
          </time>
        ) : (
          <span className="muted">Never</span>
        )}
      </td>
      <td>
        {apiKey.revokedAt ? (
          <span className="key-status revoked">
            Revoked{' '}
            <time dateTime={apiKey.revokedAt} title={formatDateTime(apiKey.revokedAt)}>
              {formatWhen(apiKey.revokedAt)}
            </time>
          </span>
        ) : (
          <span className="key-status active">Active</span>
        )}
      </td>
      <td className="row-actions">
        {!revoked && (
          <>
            <button
              type="button"
              className="button small"
              onClick={onEdit}
              aria-label={`Edit limits of ${apiKey.name}`}
            >
              Edit limits
            </button>
            <button
              type="button"
              className="button small danger-outline"
              onClick={onRevoke}
              aria-label={`Revoke ${apiKey.name}`}
            >
              Revoke
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

/** Spend, and against a budget when there is one. */
function Spend({
  spentUsd,
  budgetUsd,
  label,
}: {
  spentUsd: number;
  budgetUsd: number | null;
  label: string;
}) {
  if (budgetUsd == null) return <span>{formatUsd(spentUsd)}</span>;
  return (
    <span className="spend">
      <span>
        {formatUsd(spentUsd)} <span className="muted">of {formatUsd(budgetUsd)}</span>
      </span>
      <BudgetMeter spentUsd={spentUsd} budgetUsd={budgetUsd} label={label} />
    </span>
  );
}

/** The audit log: who created, changed the limits of or revoked which key, and when. */
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { AuditLogQuery } from '../../graphql/admin-operations.ts';
import { describeError } from '../../graphql/errors.ts';
import { formatDateTime, formatWhen } from '../../ui/format.ts';
import { ScrollRegion } from '../../ui/scroll-region.tsx';
import { describeAuditDetails } from './audit-details.ts';
import { Pager } from './pager.tsx';
import { useCursorPages } from './use-cursor-pages.ts';

const PAGE_SIZE = 20;

const ACTION_LABELS: Record<string, string> = {
  CREATE_API_KEY: 'Created',
  UPDATE_API_KEY_LIMITS: 'Changed limits',
  REVOKE_API_KEY: 'Revoked',
};

export function AuditLogPanel() {
  const pages = useCursorPages();
  const [{ data, fetching, error }] = useQuery({
    query: AuditLogQuery,
    variables: { first: PAGE_SIZE, after: pages.after },
  });
  const entries = useMemo(() => data?.auditLog.edges.map((edge) => edge.node) ?? [], [data]);
  const endCursor = data?.auditLog.pageInfo.endCursor ?? null;
  const hasOlder = (data?.auditLog.pageInfo.hasNextPage ?? false) && endCursor !== null;

  return (
    <section className="panel" aria-labelledby="audit-heading" aria-busy={fetching}>
      <div className="panel-head">
        <h2 id="audit-heading">Audit log</h2>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {describeError(error)}
        </p>
      )}
      {entries.length === 0 ? (
        <p className="muted">
          {fetching ? 'Loading the audit log…' : 'No key has been changed yet.'}
        </p>
      ) : (
        <ScrollRegion label="Table of key changes, newest first">
          <table className="data-table compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Key</th>
                <th scope="col">Action</th>
                <th scope="col">Details</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id}>
                  <td>
                    <time dateTime={entry.at} title={formatDateTime(entry.at)}>
                      {formatWhen(entry.at)}
                    </time>
                  </td>
                  <th scope="row">
                    {entry.apiKey.name}{' '}
                    <code className="key-prefix">{entry.apiKey.keyPrefix}…</code>
                  </th>
                  <td>{ACTION_LABELS[entry.action] ?? entry.action}</td>
                  <td className="limits-cell">
                    {describeAuditDetails(entry).map((line) => (
                      <div key={line}>{line}</div>
                    ))}
                  </td>
                  <td>{entry.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <Pager
        label="the audit log"
        hasNewer={pages.hasNewer}
        hasOlder={hasOlder}
        onNewer={pages.showNewer}
        onOlder={() => endCursor && !fetching && pages.showOlder(endCursor)}
      />
    </section>
  );
}

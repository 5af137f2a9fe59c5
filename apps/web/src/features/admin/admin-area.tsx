/**
 * The admin area, for admin keys: the API keys, the usage of the last 30 days and the audit log
 * of key changes. It is its
 * own lazy chunk (with its stylesheet), so other keys never load it.
 */
import './admin.css';
import { AuditLogPanel } from './audit-log-panel.tsx';
import { KeysPanel } from './keys-panel.tsx';
import { UsagePanel } from './usage-panel.tsx';

export default function AdminArea() {
  return (
    <main className="admin-layout" aria-labelledby="admin-heading">
      <h1 id="admin-heading" className="admin-title" tabIndex={-1}>
        Admin
      </h1>
      <KeysPanel />
      <UsagePanel />
      <AuditLogPanel />
    </main>
  );
}

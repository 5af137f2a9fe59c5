/**
 * The admin area, for admin keys: the API keys and the usage of the last 30 days. It is its
 * own lazy chunk (with its stylesheet), so other keys never load it.
 */
import './admin.css';
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
    </main>
  );
}

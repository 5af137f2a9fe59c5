/** Asks before revoking: a revoked key cannot be restored, and its open sessions end. */
import { useState } from 'react';
import type { ApiKey } from '../../graphql/admin-operations.ts';
import { describeError } from '../../graphql/errors.ts';
import { useAnnounce } from '../../ui/announcer.tsx';
import { Modal } from '../../ui/modal.tsx';
import { useRevokeApiKey } from './use-api-keys.ts';

export function RevokeKeyDialog({
  apiKey,
  isOwnKey,
  onRevoked,
  onClose,
}: {
  apiKey: ApiKey;
  isOwnKey: boolean;
  /** Called before the dialog closes: the button that opened it is gone with the revocation. */
  onRevoked(): void;
  onClose(): void;
}) {
  const [{ fetching }, revokeKey] = useRevokeApiKey();
  const [error, setError] = useState<string | null>(null);
  const announce = useAnnounce();

  const revoke = async (close: () => void) => {
    setError(null);
    const result = await revokeKey({ id: apiKey.id });
    if (result.data) {
      announce(`Key ${apiKey.name} revoked.`);
      onRevoked();
      close();
    } else if (result.error) {
      setError(describeError(result.error));
    }
  };

  return (
    <Modal className="admin-dialog narrow" labelledBy="revoke-key-title" onClose={onClose}>
      {(close) => (
        <div className="modal-inner">
          <header className="modal-head">
            <h2 id="revoke-key-title">Revoke {apiKey.name}?</h2>
          </header>
          <p>
            Everything using the key <code>{apiKey.keyPrefix}…</code> stops within seconds: its
            requests are refused and its open dashboards are signed out. Its jobs and spend stay in
            the history and the reports. This cannot be undone.
          </p>
          {isOwnKey && <p className="form-warning">This is the key you are signed in with.</p>}
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="admin-dialog-actions">
            {/* biome-ignore lint/a11y/noAutofocus: the safe choice takes the focus in a confirmation. */}
            <button type="button" className="button" onClick={close} autoFocus>
              Keep the key
            </button>
            <button
              type="button"
              className="button danger"
              onClick={() => revoke(close)}
              disabled={fetching}
            >
              {fetching ? 'Revoking…' : 'Revoke key'}
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}

/**
 * Creates an API key: name, scopes, limits. The secret comes back once, in the mutation's
 * answer; it is shown with copy buttons and as a `#key=` sign-in link to hand over, and
 * forgotten when the dialog closes (the gateway keeps only its hash).
 */
import { SCOPES, type Scope } from '@zimage/contract';
import { type FormEvent, useId, useState } from 'react';
import { useAnnounce } from '../../ui/announcer.tsx';
import { Modal } from '../../ui/modal.tsx';
import { LimitsFields } from './limits-fields.tsx';
import { type LimitsFormErrors, limitsToCreate, limitsToForm, parseLimits } from './limits-form.ts';
import { type FormFailure, formFailure } from './mutation-errors.ts';
import { SCOPE_HINTS } from './scope-hints.ts';
import { useCreateApiKey } from './use-api-keys.ts';

const DEFAULT_SCOPES: readonly Scope[] = ['generate', 'read'];

/** The dashboard's sign-in link for a key: what a friend opens to be signed in. */
export const signInLink = (secret: string) =>
  `${window.location.origin}${window.location.pathname}#key=${encodeURIComponent(secret)}`;

export function CreateKeyDialog({ onClose }: { onClose(): void }) {
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  return (
    <Modal className="admin-dialog" labelledBy="create-key-title" onClose={onClose}>
      {(close) => (
        <div className="modal-inner">
          <header className="modal-head">
            <h2 id="create-key-title">{created ? 'Key created' : 'Create an API key'}</h2>
            <button type="button" className="button ghost icon" onClick={close} aria-label="Close">
              ×
            </button>
          </header>
          {created ? (
            <CreatedKey name={created.name} secret={created.secret} onDone={close} />
          ) : (
            <CreateKeyForm onCreated={setCreated} onCancel={close} />
          )}
        </div>
      )}
    </Modal>
  );
}

function CreateKeyForm({
  onCreated,
  onCancel,
}: {
  onCreated(key: { name: string; secret: string }): void;
  onCancel(): void;
}) {
  const id = useId();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<readonly Scope[]>(DEFAULT_SCOPES);
  const [limits, setLimits] = useState(() => limitsToForm(null));
  const [limitErrors, setLimitErrors] = useState<LimitsFormErrors>({});
  const [failure, setFailure] = useState<FormFailure | null>(null);
  const [{ fetching }, createKey] = useCreateApiKey();
  const announce = useAnnounce();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseLimits(limits);
    setLimitErrors(parsed.ok ? {} : parsed.errors);
    setFailure(null);
    if (!parsed.ok || !name.trim() || scopes.length === 0) return;
    const result = await createKey({
      input: { name: name.trim(), scopes: [...scopes], limits: limitsToCreate(parsed.limits) },
    });
    const answer = result.data?.createApiKey;
    if (answer) {
      announce(`Key ${answer.apiKey.name} created. Copy its secret now: it is shown only once.`);
      onCreated({ name: answer.apiKey.name, secret: answer.secret });
    } else if (result.error) {
      const next = formFailure(result.error);
      if (next.field && next.field in limits.numbers) {
        setLimitErrors({ [next.field]: next.message });
      } else {
        setFailure(next);
      }
    }
  };

  const fieldError = (field: string) => (failure?.field === field ? failure.message : null);
  const nameError = fieldError('name');
  const scopesError = scopes.length === 0 ? 'Choose at least one scope.' : fieldError('scopes');
  const formError = failure && !['name', 'scopes'].includes(failure.field ?? '') ? failure : null;

  return (
    <form className="admin-form" onSubmit={submit} aria-busy={fetching} noValidate>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          id={`${id}-name`}
          name="name"
          type="text"
          // biome-ignore lint/a11y/noAutofocus: a dialog opened to create a key starts at its first field.
          autoFocus
          required
          maxLength={100}
          autoComplete="off"
          value={name}
          onChange={(event) => setName(event.target.value)}
          aria-invalid={nameError ? true : undefined}
          aria-describedby={`${id}-name-hint${nameError ? ` ${id}-name-error` : ''}`}
        />
        <p id={`${id}-name-hint`} className="hint">
          Who or what uses it, e.g. "Sam's laptop" or "Discord bot".
        </p>
        {nameError && (
          <p id={`${id}-name-error`} className="field-error">
            {nameError}
          </p>
        )}
      </div>
      <fieldset
        className="limits-group"
        aria-invalid={scopesError ? true : undefined}
        aria-describedby={scopesError ? `${id}-scopes-error` : undefined}
      >
        <legend>Scopes</legend>
        <div className="scope-list">
          {SCOPES.map((scope) => (
            <label key={scope} className="checkbox">
              <input
                type="checkbox"
                name="scopes"
                value={scope}
                checked={scopes.includes(scope)}
                onChange={(event) =>
                  setScopes((current) =>
                    event.target.checked
                      ? [...current, scope]
                      : current.filter((other) => other !== scope),
                  )
                }
              />
              <span>
                <code>{scope}</code>
                <span className="hint">{SCOPE_HINTS[scope]}</span>
              </span>
            </label>
          ))}
        </div>
        {scopesError && (
          <p id={`${id}-scopes-error`} className="field-error">
            {scopesError}
          </p>
        )}
      </fieldset>
      <LimitsFields values={limits} errors={limitErrors} onChange={setLimits} />
      {formError && (
        <p className="form-error" role="alert">
          {formError.message}
        </p>
      )}
      <div className="admin-dialog-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="button primary"
          disabled={fetching || !name.trim() || scopes.length === 0}
        >
          {fetching ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}

function CreatedKey({ name, secret, onDone }: { name: string; secret: string; onDone(): void }) {
  const id = useId();
  const announce = useAnnounce();
  const link = signInLink(secret);

  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      announce(`${what} copied.`);
    } catch {
      announce('Copying was refused by the browser; select the text and copy it instead.');
    }
  };

  return (
    <div className="admin-form">
      <p className="form-warning" role="note">
        This is the only time the secret of <strong>{name}</strong> is shown: the gateway keeps only
        its hash. Copy it now.
      </p>
      <div className="field">
        <label htmlFor={`${id}-secret`}>Secret</label>
        <div className="input-with-button">
          <input
            id={`${id}-secret`}
            type="text"
            readOnly
            spellCheck={false}
            value={secret}
            onFocus={(event) => event.target.select()}
          />
          <button type="button" className="button" onClick={() => copy(secret, 'Secret')}>
            Copy secret
          </button>
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${id}-link`}>Sign-in link</label>
        <div className="input-with-button">
          <input
            id={`${id}-link`}
            type="text"
            readOnly
            spellCheck={false}
            value={link}
            onFocus={(event) => event.target.select()}
            aria-describedby={`${id}-link-hint`}
          />
          <button type="button" className="button" onClick={() => copy(link, 'Sign-in link')}>
            Copy link
          </button>
        </div>
        <p id={`${id}-link-hint`} className="hint">
          Opening it signs in to this dashboard with the new key. Hand it over privately: it is the
          key.
        </p>
      </div>
      <div className="admin-dialog-actions">
        <button type="button" className="button primary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

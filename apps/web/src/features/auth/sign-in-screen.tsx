import { type FormEvent, useId, useState } from 'react';
import { useAuth } from './use-auth.tsx';

export function SignInScreen() {
  const { state, signIn } = useAuth();
  const [key, setKey] = useState('');
  const [reveal, setReveal] = useState(false);
  const inputId = useId();
  const hintId = useId();
  const checking = state.status === 'checking';
  const message = state.status === 'signed-out' ? state.message : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim()) void signIn(key.trim());
  };

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-busy={checking}>
        <h1 className="brand">
          <span className="brand-mark" aria-hidden="true" />
          zimage
        </h1>
        <p className="muted">
          Sign in with an API key of this gateway to generate and watch images.
        </p>
        <label htmlFor={inputId}>API key</label>
        <div className="input-with-button">
          <input
            id={inputId}
            name="apiKey"
            type={reveal ? 'text' : 'password'}
            autoComplete="off"
            spellCheck={false}
            required
            value={key}
            onChange={(event) => setKey(event.target.value)}
            aria-describedby={hintId}
            aria-invalid={message ? true : undefined}
            disabled={checking}
          />
          <button
            type="button"
            className="button ghost"
            onClick={() => setReveal((shown) => !shown)}
            aria-pressed={reveal}
          >
            {reveal ? 'Hide' : 'Show'}
          </button>
        </div>
        <p id={hintId} className="hint">
          The key stays in this browser until you sign out. Operators can also share a link ending
          in <code>#key=…</code>.
        </p>
        {message && (
          <p className="form-error" role="alert">
            {message}
          </p>
        )}
        <button type="submit" className="button primary" disabled={checking || !key.trim()}>
          {checking ? 'Checking key…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

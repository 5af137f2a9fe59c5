import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { readStoredKey, storeKey } from '../src/features/auth/api-key-storage.ts';
import { SignInScreen } from '../src/features/auth/sign-in-screen.tsx';
import { AuthProvider, useAuth } from '../src/features/auth/use-auth.tsx';
import { createFakeGateway } from './support/fake-gateway.ts';
import { checkKeyWith, renderSignedIn, VALID_KEY } from './support/render.tsx';

/** The app's gate, with a stand-in for the dashboard. */
function Gate() {
  const { state, signOut } = useAuth();
  if (state.status !== 'signed-in') return <SignInScreen />;
  return (
    <button type="button" onClick={() => signOut()}>
      Sign out of {state.key}
    </button>
  );
}

function renderGate() {
  const gateway = createFakeGateway();
  render(
    <AuthProvider checkKey={checkKeyWith(gateway)}>
      <Gate />
    </AuthProvider>,
  );
  return gateway;
}

describe('signing in', () => {
  it('keeps a key the gateway accepts, in this browser', async () => {
    renderGate();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('API key'), VALID_KEY);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('button', { name: `Sign out of ${VALID_KEY}` })).toBeTruthy();
    expect(readStoredKey()).toBe(VALID_KEY);
  });

  it('says clearly when a key is wrong, and does not keep it', async () => {
    renderGate();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('API key'), 'zk_wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect((await screen.findByRole('alert')).textContent).toMatch(/not accepted/);
    expect(screen.getByLabelText('API key').getAttribute('aria-invalid')).toBe('true');
    expect(readStoredKey()).toBeNull();
  });

  it('takes a key from a #key= link, checks it, and removes it from the address bar', async () => {
    window.history.replaceState(null, '', `/?job=job_1#key=${VALID_KEY}&view=grid`);
    const gateway = renderGate();

    expect(await screen.findByRole('button', { name: `Sign out of ${VALID_KEY}` })).toBeTruthy();
    expect(gateway.operationsNamed('ViewerName')).toHaveLength(1);
    expect(readStoredKey()).toBe(VALID_KEY);
    expect(window.location.hash).toBe('#view=grid');
    expect(window.location.search).toBe('?job=job_1');
  });

  it('rejects a wrong key from a link with a message', async () => {
    window.history.replaceState(null, '', '/#key=zk_wrong');
    renderGate();
    expect((await screen.findByRole('alert')).textContent).toMatch(/not accepted/);
    expect(window.location.hash).toBe('');
    expect(readStoredKey()).toBeNull();
  });

  it('signs in with a stored key at once, and signs out', async () => {
    storeKey(VALID_KEY);
    const gateway = renderGate();
    await userEvent.click(screen.getByRole('button', { name: `Sign out of ${VALID_KEY}` }));

    expect(screen.getByLabelText('API key')).toBeTruthy();
    expect(readStoredKey()).toBeNull();
    expect(gateway.operationsNamed('ViewerName')).toHaveLength(0);
  });

  it('signs out when the gateway stops accepting the stored key', async () => {
    const gateway = createFakeGateway();
    gateway.failNext('Viewer', 'UNAUTHENTICATED', 'API key revoked');
    const view = renderSignedIn({ gateway });
    await waitFor(() => expect(view.rejectedCount()).toBeGreaterThan(0));
  });
});

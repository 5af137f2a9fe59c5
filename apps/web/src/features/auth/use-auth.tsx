/**
 * Who is signed in. A key typed in or handed over by a `#key=` link is checked with the gateway
 * before it is kept; a stored key is trusted until the gateway rejects it (then the dashboard
 * signs out with a message instead of failing request by request).
 */
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createRequiredContext } from '../../ui/required-context.ts';
import { readStoredKey, storeKey, takeKeyFromFragment } from './api-key-storage.ts';
import { checkKeyWithGateway, type KeyCheck } from './check-key.ts';

export type AuthState =
  | { status: 'signed-out'; message: string | null }
  | { status: 'checking'; key: string }
  | { status: 'signed-in'; key: string };

export interface Auth {
  state: AuthState;
  signIn(key: string): Promise<void>;
  signOut(message?: string): void;
}

const [AuthContext, useAuth] = createRequiredContext<Auth>('Auth');

export { useAuth };

function initialState(): AuthState {
  const fromFragment = takeKeyFromFragment();
  if (fromFragment) return { status: 'checking', key: fromFragment };
  const stored = readStoredKey();
  return stored ? { status: 'signed-in', key: stored } : { status: 'signed-out', message: null };
}

export function AuthProvider({
  children,
  checkKey = checkKeyWithGateway,
}: {
  children: ReactNode;
  checkKey?: (key: string) => Promise<KeyCheck>;
}) {
  const [state, setState] = useState<AuthState>(initialState);

  const signIn = useCallback(
    async (key: string) => {
      setState({ status: 'checking', key });
      const check = await checkKey(key);
      storeKey(check.ok ? key : null);
      setState(
        check.ok ? { status: 'signed-in', key } : { status: 'signed-out', message: check.message },
      );
    },
    [checkKey],
  );

  const signOut = useCallback((message?: string) => {
    storeKey(null);
    setState({ status: 'signed-out', message: message ?? null });
  }, []);

  // A key from the link starts out 'checking'; its check runs once, here (the ref keeps React's
  // development double-run of effects from asking twice).
  const linkKey = useRef(state.status === 'checking' ? state.key : null);
  useEffect(() => {
    const key = linkKey.current;
    linkKey.current = null;
    if (key) void signIn(key);
  }, [signIn]);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <AuthContext value={value}>{children}</AuthContext>;
}

import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { Dashboard, DashboardProviders } from '../../src/dashboard.tsx';
import { storeKey } from '../../src/features/auth/api-key-storage.ts';
import type { KeyCheck } from '../../src/features/auth/check-key.ts';
import { AuthProvider } from '../../src/features/auth/use-auth.tsx';
import { createDashboardClient } from '../../src/graphql/client.ts';
import { createConnectionStatus } from '../../src/graphql/connection.ts';
import { AnnouncerProvider } from '../../src/ui/announcer.tsx';
import { createFakeGateway, type FakeGateway } from './fake-gateway.ts';

export const VALID_KEY = 'zk_valid';

/** Accepts VALID_KEY only, as the gateway would. */
export const checkKeyWith =
  (gateway: FakeGateway) =>
  async (key: string): Promise<KeyCheck> => {
    gateway.operations.push({ name: 'ViewerName', variables: {} });
    return key === VALID_KEY
      ? { ok: true, name: 'Test key' }
      : { ok: false, message: 'This API key was not accepted. Check it, or ask for a new one.' };
  };

/**
 * Renders `ui` (the whole dashboard by default) signed in, with the fake gateway behind the
 * real client and cache.
 */
export function renderSignedIn(options: { gateway?: FakeGateway; ui?: ReactNode } = {}) {
  const gateway = options.gateway ?? createFakeGateway();
  storeKey(VALID_KEY);
  let rejected = 0;
  const dashboard = createDashboardClient({
    transport: gateway.transport,
    onUnauthenticated: () => {
      rejected += 1;
    },
  });
  const connection = createConnectionStatus('online');
  const view = render(
    <AnnouncerProvider>
      <AuthProvider checkKey={checkKeyWith(gateway)}>
        <DashboardProviders client={dashboard.client} connection={connection}>
          {options.ui ?? <Dashboard />}
        </DashboardProviders>
      </AuthProvider>
    </AnnouncerProvider>,
  );
  return {
    ...view,
    gateway,
    connection,
    refetchActiveQueries: dashboard.refetchActiveQueries,
    rejectedCount: () => rejected,
  };
}

/** The text of the live region, where status changes are announced. */
export const announcements = () =>
  document.querySelector('[data-testid="announcer"]')?.textContent ?? '';

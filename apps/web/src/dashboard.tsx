import { lazy, type ReactNode, Suspense, useEffect, useState } from 'react';
import { type Client, Provider, useSubscription } from 'urql';
import { type Area, hrefOfArea, useArea } from './features/admin/area-route.ts';
import { useAuth } from './features/auth/use-auth.tsx';
import { DraftProvider } from './features/generate/draft.tsx';
import { GenerateForm } from './features/generate/generate-form.tsx';
import { HistoryPanel } from './features/history/history-panel.tsx';
import { JobRouteProvider, useJobRoute } from './features/history/job-route.tsx';
import { LiveJobs } from './features/jobs/live-jobs.tsx';
import { LiveSessionProvider } from './features/jobs/live-session.tsx';
import { UsageMeter } from './features/usage/usage-meter.tsx';
import { useViewer } from './features/usage/use-usage.ts';
import { connectToGateway, type GatewayConnection } from './graphql/client.ts';
import type { ConnectionStatus } from './graphql/connection.ts';
import { MyJobsSubscription } from './graphql/operations.ts';
import { ConnectionContext, ConnectionIndicator } from './ui/connection-indicator.tsx';

const JobDetailDialog = lazy(() => import('./features/history/job-detail-dialog.tsx'));
const AdminArea = lazy(() => import('./features/admin/admin-area.tsx'));

/** Connects with the signed-in key; a new key (or signing out) gets a fresh client and cache. */
export function ConnectedDashboard({ apiKey }: { apiKey: string }) {
  const { signOut } = useAuth();
  const [gateway, setGateway] = useState<GatewayConnection | null>(null);

  useEffect(() => {
    const connection = connectToGateway(apiKey, () =>
      signOut('The gateway no longer accepts this API key. Sign in with another one.'),
    );
    setGateway(connection);
    return () => connection.dispose();
  }, [apiKey, signOut]);

  if (!gateway) return null;
  return (
    <DashboardProviders client={gateway.client} connection={gateway.connection}>
      <Dashboard />
    </DashboardProviders>
  );
}

export function DashboardProviders({
  client,
  connection,
  children,
}: {
  client: Client;
  connection: ConnectionStatus;
  children: ReactNode;
}) {
  return (
    <Provider value={client}>
      <ConnectionContext.Provider value={connection}>
        <JobRouteProvider>
          <LiveSessionProvider>
            <DraftProvider>{children}</DraftProvider>
          </LiveSessionProvider>
        </JobRouteProvider>
      </ConnectionContext.Provider>
    </Provider>
  );
}

/** Keeps the one `myJobs` subscription open; the cache applies what it brings. */
export function JobEvents() {
  useSubscription({ query: MyJobsSubscription });
  return null;
}

export function Dashboard() {
  const { signOut } = useAuth();
  const { viewer } = useViewer();
  const { openJobId, closeJob } = useJobRoute();
  const { area, followLink } = useArea();
  const isAdmin = viewer?.scopes.includes('admin') ?? false;
  const showAdmin = isAdmin && area === 'admin';

  const areaLink = (to: Area, label: string) => (
    <a
      className="area-link"
      href={hrefOfArea(to)}
      aria-current={(to === 'admin') === showAdmin ? 'page' : undefined}
      onClick={(event) => followLink(event, to)}
    >
      {label}
    </a>
  );

  return (
    <div className="app">
      <JobEvents />
      <a className="skip-link" href={showAdmin ? '#admin-heading' : '#generate-heading'}>
        {showAdmin ? 'Skip to the admin area' : 'Skip to the generate form'}
      </a>
      <header className="app-header">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true" />
          zimage
        </p>
        {isAdmin && (
          <nav className="area-nav" aria-label="Areas">
            {areaLink('generate', 'Generate')}
            {areaLink('admin', 'Admin')}
          </nav>
        )}
        <UsageMeter gatewayWide={isAdmin} />
        <div className="header-end">
          <ConnectionIndicator />
          {viewer && (
            <span className="viewer-name" title={`API key ${viewer.keyPrefix}…`}>
              {viewer.name}
            </span>
          )}
          <button type="button" className="button ghost small" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      {showAdmin ? (
        <Suspense fallback={<p className="muted admin-loading">Loading the admin area…</p>}>
          <AdminArea />
        </Suspense>
      ) : (
        <main className="layout">
          <section className="panel generate" aria-labelledby="generate-heading">
            <div className="panel-head">
              <h1 id="generate-heading" tabIndex={-1}>
                Generate
              </h1>
            </div>
            <GenerateForm />
          </section>
          <div className="feed">
            <LiveJobs />
            <HistoryPanel />
          </div>
        </main>
      )}
      {openJobId && (
        <Suspense fallback={null}>
          <JobDetailDialog key={openJobId} id={openJobId} onClose={closeJob} />
        </Suspense>
      )}
    </div>
  );
}

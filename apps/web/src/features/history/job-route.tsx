/**
 * Which job's detail is open, kept in the URL (`?job=<id>`) so a detail can be linked to,
 * reloaded, and closed with the browser's Back button. Query parameters, not paths, because
 * the gateway serves the dashboard as static files at `/`.
 */
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRequiredContext } from '../../ui/required-context.ts';

const PARAM = 'job';

interface JobRoute {
  openJobId: string | null;
  openJob(id: string): void;
  closeJob(): void;
}

const [JobRouteContext, useJobRoute] = createRequiredContext<JobRoute>('JobRoute');

export { useJobRoute };

const readJobId = () => new URL(window.location.href).searchParams.get(PARAM);

function urlWithJob(id: string | null): string {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set(PARAM, id);
  else url.searchParams.delete(PARAM);
  return `${url.pathname}${url.search}${url.hash}`;
}

export function JobRouteProvider({ children }: { children: ReactNode }) {
  const [openJobId, setOpenJobId] = useState(readJobId);

  useEffect(() => {
    const onPopState = () => setOpenJobId(readJobId());
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  const openJob = useCallback((id: string) => {
    window.history.pushState({ [PARAM]: id }, '', urlWithJob(id));
    setOpenJobId(id);
  }, []);

  const closeJob = useCallback(() => {
    // Opened from this page: going back restores the URL before it. Opened from a link: drop it.
    if (window.history.state?.[PARAM]) window.history.back();
    else window.history.replaceState(null, '', urlWithJob(null));
    setOpenJobId(null);
  }, []);

  const value = useMemo(() => ({ openJobId, openJob, closeJob }), [openJobId, openJob, closeJob]);
  return <JobRouteContext value={value}>{children}</JobRouteContext>;
}

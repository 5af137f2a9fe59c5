/**
 * Which jobs have a card in the live panel: every job the server reports unfinished, plus
 * every job that was unfinished (or submitted) while this page was open, until dismissed. A
 * finished job keeps its card so its images appear where the user was watching.
 */
import { type ReactNode, useCallback, useMemo, useState } from 'react';
import type { Job } from '../../graphql/operations.ts';
import { createRequiredContext } from '../../ui/required-context.ts';

interface LiveSession {
  /** Ids of the tracked jobs with their creation times (for ordering, newest first). */
  tracked: ReadonlyMap<string, string>;
  track(jobs: readonly Pick<Job, 'id' | 'createdAt'>[]): void;
  dismiss(ids: readonly string[]): void;
}

const [LiveSessionContext, useLiveSession] = createRequiredContext<LiveSession>('LiveSession');

export { useLiveSession };

export function LiveSessionProvider({ children }: { children: ReactNode }) {
  const [tracked, setTracked] = useState<ReadonlyMap<string, string>>(new Map());
  const track = useCallback((jobs: readonly Pick<Job, 'id' | 'createdAt'>[]) => {
    setTracked((current) => {
      const added = jobs.filter((job) => !current.has(job.id));
      if (added.length === 0) return current;
      const next = new Map(current);
      for (const job of added) next.set(job.id, job.createdAt);
      return next;
    });
  }, []);
  const dismiss = useCallback((ids: readonly string[]) => {
    setTracked((current) => {
      const next = new Map(current);
      for (const id of ids) next.delete(id);
      return next;
    });
  }, []);
  const value = useMemo(() => ({ tracked, track, dismiss }), [tracked, track, dismiss]);
  return <LiveSessionContext value={value}>{children}</LiveSessionContext>;
}

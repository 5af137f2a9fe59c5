import { useEffect, useRef } from 'react';
import type { Job } from '../../graphql/operations.ts';
import { cardId, JobCard } from './job-card.tsx';
import { NotifyToggle } from './job-end-notifications.tsx';
import { useTabTitle } from './tab-title.ts';
import { useLiveJobs } from './use-live-jobs.ts';

export function LiveJobs() {
  const live = useLiveJobs();
  const headingRef = useRef<HTMLHeadingElement>(null);
  // Where the focus goes once the list has re-rendered: a card's job id, or null for the heading.
  const focusNext = useRef<string | null | undefined>(undefined);
  useTabTitle(live.runningCount);

  useEffect(() => {
    const target = focusNext.current;
    if (target === undefined) return;
    focusNext.current = undefined;
    (target ? document.getElementById(cardId(target)) : headingRef.current)?.focus();
  }, [live.jobIds]);

  /** The next card (or the one before, or the heading) gets the focus the dismissed one had. */
  const dismiss = (id: string) => {
    const index = live.jobIds.indexOf(id);
    focusNext.current = live.jobIds[index + 1] ?? live.jobIds[index - 1] ?? null;
    live.dismiss(id);
  };
  const replace = (failedId: string, job: Pick<Job, 'id' | 'createdAt'>) => {
    focusNext.current = job.id;
    live.replace(failedId, job);
  };
  const clearFinished = () => {
    focusNext.current = null;
    live.clearFinished();
  };

  return (
    <section className="panel live" aria-labelledby="live-heading">
      <div className="panel-head">
        <h2 id="live-heading" ref={headingRef} tabIndex={-1}>
          Live
          {live.runningCount > 0 && <span className="count">{live.runningCount} running</span>}
        </h2>
        <div className="panel-tools">
          <NotifyToggle />
          {live.finishedIds.length > 0 && (
            <button type="button" className="button ghost small" onClick={clearFinished}>
              Clear finished
            </button>
          )}
        </div>
      </div>
      {live.error && (
        <p className="form-error" role="alert">
          {live.error}
        </p>
      )}
      {live.jobIds.length === 0 ? (
        <div className="empty-state">
          <p className="empty-title">
            {live.loading ? 'Looking for running jobs…' : 'Nothing running'}
          </p>
          {!live.loading && (
            <p className="muted">
              Jobs you start appear here and update as they run. Several can run at once; the last
              few finished stay here, every job is in History.
            </p>
          )}
        </div>
      ) : (
        <ol className="job-grid">
          {live.jobIds.map((id) => (
            <JobCard key={id} id={id} onDismiss={dismiss} onReplace={replace} />
          ))}
        </ol>
      )}
    </section>
  );
}

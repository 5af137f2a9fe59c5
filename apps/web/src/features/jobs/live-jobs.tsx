import { JobCard } from './job-card.tsx';
import { useLiveJobs } from './use-live-jobs.ts';

export function LiveJobs() {
  const live = useLiveJobs();
  return (
    <section className="panel live" aria-labelledby="live-heading">
      <div className="panel-head">
        <h2 id="live-heading">
          Live
          {live.runningCount > 0 && <span className="count">{live.runningCount} running</span>}
        </h2>
        {live.finishedIds.length > 0 && (
          <button type="button" className="button ghost small" onClick={live.clearFinished}>
            Clear finished
          </button>
        )}
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
              Jobs you start appear here and update as they run. Several can run at once.
            </p>
          )}
        </div>
      ) : (
        <ol className="job-grid">
          {live.jobIds.map((id) => (
            <JobCard key={id} id={id} onDismiss={live.dismiss} />
          ))}
        </ol>
      )}
    </section>
  );
}

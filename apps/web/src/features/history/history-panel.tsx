import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { JOB_STATUSES } from '@zimage/contract';
import { type RefObject, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import type { Job, JobStatus, Model } from '../../graphql/operations.ts';
import { formatUsd, formatWhen } from '../../ui/format.ts';
import { enumLabel, modelLabel, sizeLabel } from '../../ui/labels.ts';
import { GalleryGrid } from '../gallery/gallery-grid.tsx';
import { HistoryViewToggle, useHistoryView } from '../gallery/history-view.tsx';
import { useModels } from '../generate/use-models.ts';
import { imagesExpired } from '../jobs/expired-images.tsx';
import { StatusBadge } from '../jobs/status-badge.tsx';
import { useJobRoute } from './job-route.tsx';
import { useHistory } from './use-history.ts';

const ROW_HEIGHT = 68;
/** Start fetching the next page this many rows before the end is reached. */
const PREFETCH_ROWS = 10;

export function HistoryPanel() {
  const history = useHistory();
  const { models } = useModels();
  const { view, setView } = useHistoryView();
  const id = useId();

  return (
    <section className="panel history" aria-labelledby="history-heading">
      <div className="panel-head">
        <h2 id="history-heading">History</h2>
        <HistoryViewToggle view={view} onChange={setView} />
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is a landmark only in browsers from late 2023 on; a search-role form is one everywhere. */}
      <form role="search" className="history-filters" onSubmit={(event) => event.preventDefault()}>
        <div className="field grow">
          <label htmlFor={`${id}-search`}>Search prompts</label>
          <input
            id={`${id}-search`}
            type="search"
            value={history.filters.search}
            onChange={(event) => history.setFilter('search', event.target.value)}
            placeholder="e.g. lighthouse"
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <select
            id={`${id}-model`}
            value={history.filters.model ?? ''}
            onChange={(event) =>
              history.setFilter('model', (event.target.value || null) as Model | null)
            }
          >
            <option value="">All models</option>
            {models.map((model) => (
              <option key={model.id} value={model.id}>
                {model.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select
            id={`${id}-status`}
            value={history.filters.status ?? ''}
            onChange={(event) =>
              history.setFilter('status', (event.target.value || null) as JobStatus | null)
            }
          >
            <option value="">Any status</option>
            {JOB_STATUSES.map((status) => (
              <option key={status} value={status}>
                {enumLabel(status)}
              </option>
            ))}
          </select>
        </div>
      </form>

      {history.error && (
        <p className="form-error" role="alert">
          {history.error}
        </p>
      )}
      {history.jobs.length === 0 ? (
        <div className="empty-state">
          {history.initialLoading ? (
            <p className="empty-title">Loading history…</p>
          ) : history.filtered ? (
            <>
              <p className="empty-title">No jobs match these filters</p>
              <button type="button" className="button ghost small" onClick={history.clearFilters}>
                Clear filters
              </button>
            </>
          ) : (
            <>
              <p className="empty-title">No jobs yet</p>
              <p className="muted">Every image you generate is kept here, newest first.</p>
            </>
          )}
        </div>
      ) : view === 'grid' ? (
        <GalleryGrid
          jobs={history.jobs}
          hasMore={history.hasMore}
          loading={history.loading}
          onLoadMore={history.loadMore}
        />
      ) : (
        <HistoryList
          jobs={history.jobs}
          hasMore={history.hasMore}
          loading={history.loading}
          onNearEnd={history.loadMore}
        />
      )}
    </section>
  );
}

/**
 * Only the rows in view (and a few around) are in the DOM, so a history of thousands scrolls
 * like one of ten. The page itself scrolls (no scroll box inside it, which phones handle
 * badly); the list's distance from the top of the page is measured again whenever the page
 * changes size (cards appearing above it). Coming near the end asks for the next page.
 */
export function HistoryList({
  jobs,
  hasMore,
  loading,
  onNearEnd,
}: {
  jobs: readonly Job[];
  hasMore: boolean;
  loading: boolean;
  onNearEnd(): void;
}) {
  const listRef = useRef<HTMLOListElement>(null);
  const scrollMargin = useOffsetInPage(listRef);
  const rowCount = jobs.length + (hasMore ? 1 : 0);
  const virtualizer = useWindowVirtualizer({
    count: rowCount,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    scrollMargin,
  });
  const rows = virtualizer.getVirtualItems();
  const lastIndex = rows.at(-1)?.index ?? -1;

  useEffect(() => {
    if (hasMore && lastIndex >= jobs.length - PREFETCH_ROWS) onNearEnd();
  }, [hasMore, lastIndex, jobs.length, onNearEnd]);

  return (
    <div className="history-scroll" aria-busy={loading}>
      <ol
        ref={listRef}
        className="history-list"
        aria-label="Jobs, newest first"
        style={{ height: virtualizer.getTotalSize() }}
      >
        {rows.map((row) => {
          const job = jobs[row.index];
          return (
            <li
              key={job?.id ?? 'more'}
              className="history-row"
              style={{ transform: `translateY(${row.start - scrollMargin}px)`, height: row.size }}
              aria-setsize={hasMore ? -1 : jobs.length}
              aria-posinset={row.index + 1}
            >
              {job ? <HistoryRow job={job} /> : <p className="muted loading-more">Loading more…</p>}
            </li>
          );
        })}
      </ol>
    </div>
  );
}

/** The element's distance from the top of the page, kept current as the page changes size. */
function useOffsetInPage(ref: RefObject<HTMLElement | null>): number {
  const [offset, setOffset] = useState(0);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setOffset(element.getBoundingClientRect().top + window.scrollY);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(document.body);
    return () => observer.disconnect();
  }, [ref]);
  return offset;
}

function HistoryRow({ job }: { job: Job }) {
  const { openJob } = useJobRoute();
  const thumbnail = imagesExpired(job) ? undefined : job.images[0];
  return (
    <button type="button" className="history-row-button" onClick={() => openJob(job.id)}>
      <span className="history-thumb" aria-hidden="true">
        {thumbnail ? (
          <img
            className="history-thumb-image"
            src={thumbnail.url}
            alt=""
            loading="lazy"
            decoding="async"
          />
        ) : null}
      </span>
      <span className="history-text">
        <span className="history-prompt">{job.prompt}</span>
        <span className="history-meta">
          {modelLabel(job.model)} · {sizeLabel(job.imageSize)} · {job.numImages}× ·{' '}
          {formatWhen(job.createdAt)}
          {job.apiKey && ` · ${job.apiKey.name}`}
          {job.endUserId && ` · for ${job.endUserId}`}
          {imagesExpired(job) ? ' · images expired' : ''}
        </span>
      </span>
      <span className="history-side">
        <StatusBadge status={job.status} />
        <span className="history-cost">{formatUsd(job.costUsd)}</span>
      </span>
    </button>
  );
}

/**
 * The history as a grid of thumbnails: every image of the jobs loaded (the history's own pages
 * and filters), newest first. A thumbnail opens the full-size viewer; its checkbox picks it for
 * the compare view (2 to 4). The viewer and compare view are lazy chunks.
 */
import { lazy, Suspense, useMemo, useState } from 'react';
import type { Job } from '../../graphql/operations.ts';
import { shortPrompt } from '../../ui/labels.ts';
import { galleryItems, MAX_COMPARE, MIN_COMPARE } from './gallery-items.ts';

const ImageViewer = lazy(() => import('./image-viewer.tsx'));
const CompareView = lazy(() => import('./compare-view.tsx'));

export function GalleryGrid({
  jobs,
  hasMore,
  loading,
  onLoadMore,
}: {
  jobs: readonly Job[];
  hasMore: boolean;
  loading: boolean;
  onLoadMore(): void;
}) {
  const items = useMemo(() => galleryItems(jobs), [jobs]);
  const [viewing, setViewing] = useState<number | null>(null);
  const [picked, setPicked] = useState<readonly string[]>([]);
  const [comparing, setComparing] = useState(false);
  // Picks whose images left the list (another filter) no longer count.
  const pickedItems = picked.flatMap((key) => items.filter((item) => item.key === key));

  const toggle = (key: string, on: boolean) =>
    setPicked((current) =>
      on
        ? [...current.filter((other) => other !== key), key]
        : current.filter((other) => other !== key),
    );

  return (
    <div className="gallery" aria-busy={loading}>
      <div className="gallery-bar">
        <p className="muted">
          {pickedItems.length > 0
            ? `${pickedItems.length} of ${MAX_COMPARE} picked to compare`
            : `Pick ${MIN_COMPARE} to ${MAX_COMPARE} images to compare them`}
        </p>
        <button
          type="button"
          className="button small"
          disabled={pickedItems.length < MIN_COMPARE}
          onClick={() => setComparing(true)}
        >
          Compare{pickedItems.length > 0 ? ` ${pickedItems.length}` : ''}
        </button>
        {pickedItems.length > 0 && (
          <button type="button" className="button ghost small" onClick={() => setPicked([])}>
            Clear picks
          </button>
        )}
      </div>
      {items.length === 0 ? (
        <p className="muted gallery-empty">
          {loading ? 'Loading images…' : 'No images among these jobs yet.'}
        </p>
      ) : (
        <ul className="gallery-grid" aria-label="Images, newest first">
          {items.map((item, at) => {
            const isPicked = picked.includes(item.key);
            const label = `“${shortPrompt(item.job.prompt)}”, image ${item.index + 1} of ${item.job.images.length}`;
            return (
              <li key={item.key} className={`gallery-cell${isPicked ? ' picked' : ''}`}>
                <button
                  type="button"
                  className="gallery-thumb"
                  onClick={() => setViewing(at)}
                  aria-label={`View ${label}`}
                >
                  <img
                    src={item.image.url}
                    width={item.image.width}
                    height={item.image.height}
                    alt=""
                    loading="lazy"
                    decoding="async"
                  />
                </button>
                <label className="gallery-pick">
                  <input
                    type="checkbox"
                    checked={isPicked}
                    disabled={!isPicked && pickedItems.length >= MAX_COMPARE}
                    onChange={(event) => toggle(item.key, event.target.checked)}
                  />
                  <span className="visually-hidden">Compare {label}</span>
                </label>
              </li>
            );
          })}
        </ul>
      )}
      {hasMore && (
        <button type="button" className="button ghost wide" onClick={onLoadMore} disabled={loading}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
      <Suspense fallback={null}>
        {viewing !== null && (
          <ImageViewer items={items} startAt={viewing} onClose={() => setViewing(null)} />
        )}
        {comparing && pickedItems.length >= MIN_COMPARE && (
          <CompareView items={pickedItems} onClose={() => setComparing(false)} />
        )}
      </Suspense>
    </div>
  );
}

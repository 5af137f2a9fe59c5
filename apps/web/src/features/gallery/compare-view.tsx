/**
 * 2 to 4 images side by side with the settings they were made with, the settings that differ
 * marked: with no seed in Pixazo's API, comparing settings (Turbo against Base, steps) is how
 * people iterate. Its own lazy chunk.
 */
import { type CSSProperties, useMemo } from 'react';
import { shortPrompt } from '../../ui/labels.ts';
import { Modal } from '../../ui/modal.tsx';
import { downloadHref, downloadName } from './download-name.ts';
import type { GalleryItem } from './gallery-items.ts';
import { ImageSettings, SETTINGS } from './image-settings.tsx';
import { useImageActions } from './use-image-actions.ts';

export default function CompareView({
  items,
  onClose,
}: {
  items: readonly GalleryItem[];
  onClose(): void;
}) {
  const differing = useMemo(
    () =>
      new Set(
        SETTINGS.filter(
          (setting) => new Set(items.map((item) => setting.of(item.job))).size > 1,
        ).map((setting) => setting.label),
      ),
    [items],
  );
  return (
    <Modal className="compare-view" labelledBy="compare-title" onClose={onClose}>
      {(close) => <CompareBody items={items} differing={differing} close={close} />}
    </Modal>
  );
}

function CompareBody({
  items,
  differing,
  close,
}: {
  items: readonly GalleryItem[];
  differing: ReadonlySet<string>;
  close(): void;
}) {
  const { applySettings } = useImageActions(close);
  return (
    <div className="modal-inner">
      <header className="modal-head">
        <h2 id="compare-title">Compare {items.length} images</h2>
        <p className="muted">
          {differing.size > 0
            ? `Differs in: ${[...differing].join(', ').toLowerCase()}`
            : 'Same settings'}
        </p>
        <button type="button" className="button ghost icon" onClick={close} aria-label="Close">
          ×
        </button>
      </header>
      <ol className="compare-columns" style={{ '--columns': items.length } as CSSProperties}>
        {items.map(({ key, job, index, image }, column) => (
          <li key={key} className="compare-column" aria-label={`Image ${column + 1}`}>
            <img
              className="compare-image"
              src={image.url}
              width={image.width}
              height={image.height}
              alt={`Result ${column + 1} compared: “${shortPrompt(job.prompt)}”`}
            />
            <p className="compare-prompt">{job.prompt}</p>
            <ImageSettings job={job} differing={differing} />
            <div className="detail-actions">
              <a
                className="button small"
                href={downloadHref(image.url)}
                download={downloadName(job, index, image)}
              >
                Download
              </a>
              <button type="button" className="button small" onClick={() => applySettings(job)}>
                Use settings
              </button>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}

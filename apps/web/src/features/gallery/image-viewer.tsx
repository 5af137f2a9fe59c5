/**
 * One image at full size, with the previous and next ones a key away (ArrowLeft, ArrowRight)
 * and what can be done with it: download (named after prompt and job), copy the prompt, use
 * its settings in the form, open its job. Its own lazy chunk.
 */
import { type KeyboardEvent, useState } from 'react';
import { shortPrompt } from '../../ui/labels.ts';
import { Modal } from '../../ui/modal.tsx';
import { useJobRoute } from '../history/job-route.tsx';
import { downloadHref, downloadName } from './download-name.ts';
import type { GalleryItem } from './gallery-items.ts';
import { ImageSettings } from './image-settings.tsx';
import { useImageActions } from './use-image-actions.ts';

export default function ImageViewer({
  items,
  startAt,
  onClose,
}: {
  items: readonly GalleryItem[];
  startAt: number;
  onClose(): void;
}) {
  const [at, setAt] = useState(startAt);
  const { openJob } = useJobRoute();
  const item = items[Math.min(at, items.length - 1)];
  const step = (by: number) =>
    setAt((current) => Math.min(items.length - 1, Math.max(0, current + by)));

  const onKeyDown = (event: KeyboardEvent) => {
    // Arrows inside a control (none takes them here but the buttons) still mean next/previous.
    if (event.key === 'ArrowRight') step(1);
    else if (event.key === 'ArrowLeft') step(-1);
    else return;
    event.preventDefault();
  };

  return (
    <Modal
      labelledBy="image-viewer-title"
      className="image-viewer"
      onClose={onClose}
      onKeyDown={onKeyDown}
    >
      {(close) => (
        <ViewerBody
          item={item}
          position={`${at + 1} of ${items.length}`}
          hasPrevious={at > 0}
          hasNext={at < items.length - 1}
          step={step}
          close={close}
          openJob={(id) => {
            close();
            openJob(id);
          }}
        />
      )}
    </Modal>
  );
}

function ViewerBody({
  item,
  position,
  hasPrevious,
  hasNext,
  step,
  close,
  openJob,
}: {
  item: GalleryItem | undefined;
  position: string;
  hasPrevious: boolean;
  hasNext: boolean;
  step(by: number): void;
  close(): void;
  openJob(id: string): void;
}) {
  const { copyPrompt, applySettings } = useImageActions(close);
  if (!item) return null;
  const { job, index, image } = item;
  return (
    <div className="modal-inner">
      <header className="modal-head">
        <h2 id="image-viewer-title">
          Image {position}
          <span className="visually-hidden">: {shortPrompt(job.prompt)}</span>
        </h2>
        <span className="muted viewer-keys" aria-hidden="true">
          ← → to move
        </span>
        <button type="button" className="button ghost icon" onClick={close} aria-label="Close">
          ×
        </button>
      </header>
      <div className="viewer-stage">
        <button
          type="button"
          className="button ghost viewer-step"
          onClick={() => step(-1)}
          disabled={!hasPrevious}
          aria-label="Previous image"
          aria-keyshortcuts="ArrowLeft"
        >
          ‹
        </button>
        <img
          key={image.url}
          className="viewer-image"
          src={image.url}
          width={image.width}
          height={image.height}
          alt={`Result ${index + 1} of ${job.images.length} for “${shortPrompt(job.prompt)}”`}
        />
        <button
          type="button"
          className="button ghost viewer-step"
          onClick={() => step(1)}
          disabled={!hasNext}
          aria-label="Next image"
          aria-keyshortcuts="ArrowRight"
        >
          ›
        </button>
      </div>
      <p className="detail-prompt">{job.prompt}</p>
      <div className="detail-actions">
        <a
          className="button primary"
          href={downloadHref(image.url)}
          download={downloadName(job, index, image)}
        >
          Download
        </a>
        <button type="button" className="button" onClick={() => void copyPrompt(job)}>
          Copy prompt
        </button>
        <button type="button" className="button" onClick={() => applySettings(job)}>
          Use settings
        </button>
        <button type="button" className="button ghost" onClick={() => openJob(job.id)}>
          Job details
        </button>
      </div>
      <ImageSettings job={job} />
    </div>
  );
}

/**
 * One job in full: every parameter, timings, cost, the images with downloads, "use these
 * settings", and snippets to make it again elsewhere. Loaded on demand (its own chunk), in a
 * native modal <dialog>.
 */
import { type ReactNode, useState } from 'react';
import type { Job } from '../../graphql/operations.ts';
import { useAnnounce } from '../../ui/announcer.tsx';
import { ChoiceGroup } from '../../ui/choice-group.tsx';
import { between, formatDateTime, formatDuration, formatUsd } from '../../ui/format.ts';
import { enumLabel, formatLabel, modelLabel, shortPrompt, sizeLabel } from '../../ui/labels.ts';
import { Modal } from '../../ui/modal.tsx';
import { downloadHref, downloadName } from '../gallery/download-name.ts';
import { useDraft } from '../generate/draft.tsx';
import { ExpiredImages, imagesExpired } from '../jobs/expired-images.tsx';
import { JobProgress, SentNote } from '../jobs/job-card.tsx';
import { isCancellable, isSentToPixazo } from '../jobs/job-status.ts';
import { StatusBadge } from '../jobs/status-badge.tsx';
import { useCancelJob, useJob } from '../jobs/use-job.ts';
import { SNIPPET_KINDS, SNIPPET_LABELS, type SnippetKind, snippetFor } from './snippets.ts';

export default function JobDetailDialog({ id, onClose }: { id: string; onClose(): void }) {
  const { job, fetching, error } = useJob(id);

  return (
    <Modal className="job-detail" labelledBy="job-detail-title" onClose={onClose}>
      {(close) => (
        <div className="modal-inner">
          <header className="modal-head">
            <h2 id="job-detail-title">Job details</h2>
            {job && <StatusBadge status={job.status} />}
            <button type="button" className="button ghost icon" onClick={close} aria-label="Close">
              ×
            </button>
          </header>
          {job ? (
            <JobDetail job={job} onClose={close} />
          ) : (
            <p className={error ? 'form-error' : 'muted'}>
              {fetching ? 'Loading…' : 'This job does not exist, or belongs to another key.'}
            </p>
          )}
        </div>
      )}
    </Modal>
  );
}

function JobDetail({ job, onClose }: { job: Job; onClose(): void }) {
  const { reuseSettings } = useDraft();
  const { cancel, cancelling, cancelError } = useCancelJob();
  const queued = between(job.createdAt, job.startedAt);
  const ran = between(job.startedAt, job.completedAt);
  const total = between(job.createdAt, job.completedAt);

  return (
    <>
      <p className="detail-prompt">{job.prompt}</p>

      {imagesExpired(job) ? (
        <ExpiredImages job={job} />
      ) : job.images.length > 0 ? (
        <ul className="detail-images">
          {job.images.map((image, index) => (
            <li key={image.url}>
              <a href={image.url} target="_blank" rel="noreferrer">
                <img
                  className="detail-image"
                  src={image.url}
                  width={image.width}
                  height={image.height}
                  alt={`Result ${index + 1} of ${job.images.length}: ${shortPrompt(job.prompt)}`}
                />
              </a>
              <a
                className="button small"
                href={downloadHref(image.url)}
                download={downloadName(job, index, image)}
              >
                Download {formatLabel(image.contentType.replace('image/', '').toUpperCase())} ·{' '}
                {image.width}×{image.height}
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <JobProgress job={job} />
      )}

      <div className="detail-actions">
        <button
          type="button"
          className="button primary"
          onClick={() => {
            onClose();
            reuseSettings(job);
          }}
        >
          Use these settings
        </button>
        {isCancellable(job) && (
          <button
            type="button"
            className="button"
            onClick={() => cancel(job.id)}
            disabled={cancelling}
          >
            Cancel job
          </button>
        )}
        {isSentToPixazo(job) && <SentNote />}
      </div>
      {cancelError && (
        <p className="form-error" role="alert">
          {cancelError}
        </p>
      )}

      <div className="detail-columns">
        <section aria-labelledby="detail-parameters">
          <h3 id="detail-parameters">Parameters</h3>
          <dl className="facts">
            <Fact label="Model">{modelLabel(job.model)}</Fact>
            <Fact label="Size">{sizeLabel(job.imageSize)}</Fact>
            <Fact label="Steps">{job.numInferenceSteps}</Fact>
            {job.guidanceScale != null && <Fact label="Guidance">{job.guidanceScale}</Fact>}
            <Fact label="Images">{job.numImages}</Fact>
            <Fact label="Format">{formatLabel(job.outputFormat)}</Fact>
            <Fact label="Acceleration">{enumLabel(job.acceleration)}</Fact>
            <Fact label="Safety checker">{job.enableSafetyChecker ? 'On' : 'Off'}</Fact>
          </dl>
        </section>
        <section aria-labelledby="detail-timings">
          <h3 id="detail-timings">Timings and cost</h3>
          <dl className="facts">
            <Fact label="Created">{formatDateTime(job.createdAt)}</Fact>
            {queued !== null && <Fact label="Waited">{formatDuration(queued)}</Fact>}
            {ran !== null && <Fact label="Ran">{formatDuration(ran)}</Fact>}
            {total !== null && <Fact label="Total">{formatDuration(total)}</Fact>}
            <Fact label="Cost">{formatUsd(job.costUsd)}</Fact>
            <Fact label="Job ID">
              <code>{job.id}</code>
            </Fact>
            {job.apiKey && (
              <Fact label="API key">
                {job.apiKey.name} <code>{job.apiKey.keyPrefix}…</code>
              </Fact>
            )}
            {job.endUserId && (
              <Fact label="End user">
                <code>{job.endUserId}</code>
              </Fact>
            )}
            {job.requestId && (
              <Fact label="Pixazo request">
                <code>{job.requestId}</code>
              </Fact>
            )}
          </dl>
        </section>
      </div>
      <Snippets job={job} />
    </>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Snippets({ job }: { job: Job }) {
  const [kind, setKind] = useState<SnippetKind>('curl');
  const announce = useAnnounce();
  const text = snippetFor(kind, job, window.location.origin);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      announce(`${SNIPPET_LABELS[kind]} snippet copied.`);
    } catch {
      announce('Copying was refused by the browser; select the text and copy it instead.');
    }
  };

  return (
    <section className="snippets" aria-labelledby="detail-snippets">
      <div className="snippets-head">
        <h3 id="detail-snippets">Make it again</h3>
        <button type="button" className="button small" onClick={copy}>
          Copy {SNIPPET_LABELS[kind]}
        </button>
      </div>
      <ChoiceGroup<SnippetKind>
        legend="Snippet"
        name="snippet"
        value={kind}
        onChange={setKind}
        choices={SNIPPET_KINDS.map((value) => ({ value, label: SNIPPET_LABELS[value] }))}
      />
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard. */}
      <pre className="snippet" tabIndex={0}>
        <code>{text}</code>
      </pre>
    </section>
  );
}

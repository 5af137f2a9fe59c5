/** The settings an image was made with, as a list of facts (viewer and compare). */
import type { ReactNode } from 'react';
import type { Job } from '../../graphql/operations.ts';
import { enumLabel, formatLabel, modelLabel, sizeLabel } from '../../ui/labels.ts';

/** Each setting's label and its text for a job; the same rows in every column of a compare. */
export const SETTINGS: readonly { label: string; of(job: Job): string }[] = [
  { label: 'Model', of: (job) => modelLabel(job.model) },
  { label: 'Size', of: (job) => sizeLabel(job.imageSize) },
  { label: 'Steps', of: (job) => String(job.numInferenceSteps) },
  { label: 'Guidance', of: (job) => (job.guidanceScale == null ? '—' : String(job.guidanceScale)) },
  { label: 'Acceleration', of: (job) => enumLabel(job.acceleration) },
  { label: 'Format', of: (job) => formatLabel(job.outputFormat) },
  { label: 'Safety checker', of: (job) => (job.enableSafetyChecker ? 'On' : 'Off') },
];

export function ImageSettings({
  job,
  differing,
  children,
}: {
  job: Job;
  /** Labels of the settings that differ between the images compared, marked as such. */
  differing?: ReadonlySet<string>;
  children?: ReactNode;
}) {
  return (
    <dl className="facts image-settings">
      {SETTINGS.map((setting) => {
        const differs = differing?.has(setting.label) ?? false;
        return (
          <div key={setting.label} className={`fact${differs ? ' differs' : ''}`}>
            <dt>{setting.label}</dt>
            <dd>
              {setting.of(job)}
              {differs && <span className="visually-hidden"> (differs)</span>}
            </dd>
          </div>
        );
      })}
      {children}
    </dl>
  );
}

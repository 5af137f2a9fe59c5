/**
 * What stands where a job's images were once the gateway's retention deleted them
 * (`imagesExpiredAt`): their URLs answer 410, so no <img> is drawn.
 */
import type { Job } from '../../graphql/operations.ts';
import { formatWhen } from '../../ui/format.ts';

type ExpiredJob = Job & { imagesExpiredAt: string };

/** True once retention deleted the job's images. */
export const imagesExpired = (job: Job): job is ExpiredJob => job.imagesExpiredAt != null;

export function ExpiredImages({ job }: { job: ExpiredJob }) {
  return (
    <p className="images-expired">
      {job.numImages === 1 ? 'Image expired' : 'Images expired'}{' '}
      <span className="muted">
        · deleted by the gateway's retention policy {formatWhen(job.imagesExpiredAt)}
      </span>
    </p>
  );
}

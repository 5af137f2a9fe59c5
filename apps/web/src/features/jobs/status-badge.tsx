import type { JobStatus } from '../../graphql/operations.ts';
import { STATUS_LABELS } from '../../ui/labels.ts';

export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <span className={`status-badge status-${status.toLowerCase()}`}>
      <span className="status-dot" aria-hidden="true" />
      {STATUS_LABELS[status]}
    </span>
  );
}

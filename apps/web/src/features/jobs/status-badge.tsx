import type { JobStatus } from '../../graphql/operations.ts';
import { enumLabel } from '../../ui/labels.ts';

export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <span className={`status-badge status-${status.toLowerCase()}`}>
      <span className="status-dot" aria-hidden="true" />
      {enumLabel(status)}
    </span>
  );
}

import { BudgetMeter } from '../../ui/budget-meter.tsx';
import { formatUsd } from '../../ui/format.ts';
import { GatewaySpend } from './gateway-spend.tsx';
import { useViewer } from './use-usage.ts';

/**
 * Today's spend against the key's budget, and the jobs it has in flight; for an admin
 * (`gatewayWide`) also what the whole gateway spent today.
 */
export function UsageMeter({ gatewayWide = false }: { gatewayWide?: boolean }) {
  const { viewer } = useViewer();
  if (!viewer) return null;
  const { spentTodayUsd, dailyBudgetUsd, jobsInFlight, maxConcurrentJobs } = viewer.usage;

  return (
    <div className="usage">
      {gatewayWide && <GatewaySpend />}
      <div className="usage-spend">
        <span className="usage-label">{gatewayWide ? 'This key today' : 'Today'}</span>
        <span>
          <strong>{formatUsd(spentTodayUsd)}</strong>
          {dailyBudgetUsd != null && <span className="muted"> of {formatUsd(dailyBudgetUsd)}</span>}
        </span>
        {dailyBudgetUsd != null && (
          <BudgetMeter
            spentUsd={spentTodayUsd}
            budgetUsd={dailyBudgetUsd}
            label="Share of today's budget spent"
          />
        )}
      </div>
      <div className="usage-jobs">
        <span className="usage-label">In flight</span>
        <strong>
          {jobsInFlight}
          {maxConcurrentJobs != null && <span className="muted"> / {maxConcurrentJobs}</span>}
        </strong>
      </div>
    </div>
  );
}

import { useQuery } from 'urql';
import { GatewaySpendQuery } from '../../graphql/operations.ts';
import { formatUsd } from '../../ui/format.ts';
import { sumUsd, utcDay } from '../../ui/money.ts';

/** What every key of the gateway spent today (UTC), for admins; refetched as jobs are charged. */
export function GatewaySpend() {
  const [{ data }] = useQuery({ query: GatewaySpendQuery, variables: { day: utcDay(Date.now()) } });
  if (!data) return null;
  return (
    <div className="usage-gateway">
      <span className="usage-label">Gateway today</span>
      <strong>{formatUsd(sumUsd(data.usageReport.map((row) => row.costUsd)))}</strong>
    </div>
  );
}

/**
 * The last 30 UTC days of the usage report, in the groupings the usage view needs: per day,
 * model and key (the chart and the top keys), per key and end user (the top end users), and,
 * only while an end user is picked, per day, model, key and end user (their chart).
 */
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { UsageReportQuery, type UsageRow } from '../../graphql/admin-operations.ts';
import { describeError } from '../../graphql/errors.ts';
import { lastDays, type Subject } from './usage-report.ts';

const NO_ROWS: readonly UsageRow[] = [];

export function useUsageReport(subject: Subject) {
  // Computed once per mount: a view left open past midnight UTC keeps its 30 days.
  const days = useMemo(() => lastDays(new Date()), []);
  const range = { from: days[0] ?? '', to: days.at(-1) ?? '' };

  const [byKey] = useQuery({
    query: UsageReportQuery,
    variables: { ...range, groupBy: ['DAY', 'MODEL', 'API_KEY'] },
  });
  const [byEndUser] = useQuery({
    query: UsageReportQuery,
    variables: { ...range, groupBy: ['API_KEY', 'END_USER'] },
  });
  const [ofEndUsers] = useQuery({
    query: UsageReportQuery,
    variables: { ...range, groupBy: ['DAY', 'MODEL', 'API_KEY', 'END_USER'] },
    pause: subject.kind !== 'end user',
  });

  const daily = subject.kind === 'end user' ? ofEndUsers : byKey;
  const error = byKey.error ?? byEndUser.error ?? daily.error;
  return {
    days,
    range,
    /** Per day and model (and end user, when one is picked): filter them with rowsOf. */
    dailyRows: daily.data?.usageReport ?? NO_ROWS,
    keyRows: byKey.data?.usageReport ?? NO_ROWS,
    endUserRows: byEndUser.data?.usageReport ?? NO_ROWS,
    loading: daily.fetching || byEndUser.fetching,
    error: error ? describeError(error) : null,
  };
}

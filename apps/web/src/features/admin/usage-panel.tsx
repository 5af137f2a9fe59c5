/**
 * The last 30 days of spend: a chart per day stacked by model, for the whole gateway, one key
 * or one end user; the top keys and end users; the daily figures as a table; and the report
 * as a CSV file.
 */
import { useId, useMemo, useState } from 'react';
import type { Model } from '../../graphql/operations.ts';
import { formatUsd } from '../../ui/format.ts';
import { modelLabel } from '../../ui/labels.ts';
import { usdOfMicro } from '../../ui/money.ts';
import { ScrollRegion } from '../../ui/scroll-region.tsx';
import { useModels } from '../generate/use-models.ts';
import { formatDay, UsageChart } from './usage-chart.tsx';
import {
  rowsOf,
  type Spender,
  type Subject,
  spenderId,
  spendPerDay,
  topSpenders,
  usageCsv,
} from './usage-report.ts';
import { useUsageReport } from './use-usage-report.ts';

/** How many keys and end users the top tables (and the picker's end users) list. */
const TOP = 10;
const GATEWAY = 'gateway';

const subjectValue = (subject: Subject) =>
  subject.kind === 'gateway'
    ? GATEWAY
    : JSON.stringify(subject.kind === 'key' ? [subject.keyId] : [subject.keyId, subject.endUserId]);

function subjectOfValue(value: string): Subject {
  if (value === GATEWAY) return { kind: 'gateway' };
  const [keyId = '', endUserId] = JSON.parse(value) as string[];
  return endUserId === undefined ? { kind: 'key', keyId } : { kind: 'end user', keyId, endUserId };
}

const spenderSubject = (spender: Spender): Subject =>
  spender.endUserId === null
    ? { kind: 'key', keyId: spender.apiKey.id }
    : { kind: 'end user', keyId: spender.apiKey.id, endUserId: spender.endUserId };

export function UsagePanel() {
  const id = useId();
  const [subject, setSubject] = useState<Subject>({ kind: 'gateway' });
  const report = useUsageReport(subject);
  const { models: modelInfos } = useModels();
  const models = useMemo(() => modelInfos.map((model) => model.id), [modelInfos]);

  const keys = useMemo(() => topSpenders(report.keyRows, false), [report.keyRows]);
  const endUsers = useMemo(() => topSpenders(report.endUserRows, true), [report.endUserRows]);
  const shownRows = useMemo(() => rowsOf(report.dailyRows, subject), [report.dailyRows, subject]);
  const days = useMemo(
    () => spendPerDay(shownRows, report.days, models),
    [shownRows, report.days, models],
  );

  const pickable = endUsers.slice(0, TOP);
  const picked =
    subject.kind === 'end user'
      ? endUsers.find((user) => user.id === spenderId(subject.keyId, subject.endUserId))
      : undefined;
  if (picked && !pickable.includes(picked)) pickable.push(picked);
  const subjectName = nameOfSubject(subject, keys, endUsers);

  const download = () => {
    const url = URL.createObjectURL(new Blob([usageCsv(shownRows)], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `zimage-usage-${report.range.from}-to-${report.range.to}.csv`;
    link.click();
    // The download has started from the URL by the next task; then it can go.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  };

  return (
    <section className="panel" aria-labelledby="usage-heading" aria-busy={report.loading}>
      <div className="panel-head">
        <h2 id="usage-heading">
          Usage <span className="count">last 30 days, UTC</span>
        </h2>
        <button type="button" className="button small" onClick={download}>
          Download CSV
        </button>
      </div>
      {report.error && (
        <p className="form-error" role="alert">
          {report.error}
        </p>
      )}
      <div className="usage-controls">
        <div className="field">
          <label htmlFor={`${id}-subject`}>Show</label>
          <select
            id={`${id}-subject`}
            value={subjectValue(subject)}
            onChange={(event) => setSubject(subjectOfValue(event.target.value))}
          >
            <option value={GATEWAY}>The whole gateway</option>
            {keys.length > 0 && (
              <optgroup label="API keys">
                {keys.map((key) => (
                  <option key={key.id} value={subjectValue(spenderSubject(key))}>
                    {key.apiKey.name} ({key.apiKey.keyPrefix}…)
                  </option>
                ))}
              </optgroup>
            )}
            {pickable.length > 0 && (
              <optgroup label="End users">
                {pickable.map((user) => (
                  <option key={user.id} value={subjectValue(spenderSubject(user))}>
                    {user.endUserId} ({user.apiKey.name})
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </div>
        <p className="usage-total">
          <span className="usage-label">Total</span>{' '}
          <strong>
            {formatUsd(usdOfMicro(days.reduce((sum, day) => sum + day.totalMicroUsd, 0)))}
          </strong>
        </p>
      </div>
      <UsageChart days={days} models={models} label={subjectName} />
      <details className="daily-figures">
        <summary>Daily figures of {subjectName}</summary>
        <DailyTable days={days} models={models} />
      </details>
      <div className="top-tables">
        <TopTable
          title="Top keys"
          byEndUser={false}
          spenders={keys.slice(0, TOP)}
          onPick={(spender) => setSubject(spenderSubject(spender))}
        />
        <TopTable
          title="Top end users"
          byEndUser
          spenders={endUsers.slice(0, TOP)}
          onPick={(spender) => setSubject(spenderSubject(spender))}
        />
      </div>
    </section>
  );
}

function nameOfSubject(subject: Subject, keys: Spender[], endUsers: Spender[]): string {
  if (subject.kind === 'gateway') return 'the whole gateway';
  if (subject.kind === 'key') {
    const key = keys.find((spender) => spender.apiKey.id === subject.keyId);
    return key ? `the key ${key.apiKey.name}` : 'this key';
  }
  const user = endUsers.find(
    (spender) => spender.id === spenderId(subject.keyId, subject.endUserId),
  );
  return `the end user ${subject.endUserId}${user ? ` of ${user.apiKey.name}` : ''}`;
}

function DailyTable({
  days,
  models,
}: {
  days: ReturnType<typeof spendPerDay>;
  models: readonly Model[];
}) {
  return (
    <ScrollRegion label="Daily figures">
      <table className="data-table compact">
        <thead>
          <tr>
            <th scope="col">Day</th>
            {models.map((model) => (
              <th key={model} scope="col" className="number">
                {modelLabel(model)}
              </th>
            ))}
            <th scope="col" className="number">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {[...days].reverse().map((day) => (
            <tr key={day.day}>
              <th scope="row">
                <time dateTime={day.day}>{formatDay(day.day)}</time>
              </th>
              {models.map((model, index) => (
                <td key={model} className="number">
                  {formatUsd(usdOfMicro(day.byModel[index] ?? 0))}
                </td>
              ))}
              <td className="number">{formatUsd(usdOfMicro(day.totalMicroUsd))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

function TopTable({
  title,
  byEndUser,
  spenders,
  onPick,
}: {
  title: string;
  byEndUser: boolean;
  spenders: readonly Spender[];
  onPick(spender: Spender): void;
}) {
  const id = useId();
  return (
    <div className="top-table">
      <h3 id={id}>{title}</h3>
      {spenders.length === 0 ? (
        <p className="muted">No spend in these 30 days.</p>
      ) : (
        <ScrollRegion labelledBy={id}>
          <table className="data-table compact">
            <thead>
              <tr>
                <th scope="col">{byEndUser ? 'End user' : 'Key'}</th>
                {byEndUser && <th scope="col">Key</th>}
                <th scope="col" className="number">
                  Jobs
                </th>
                <th scope="col" className="number">
                  Images
                </th>
                <th scope="col" className="number">
                  Spend
                </th>
              </tr>
            </thead>
            <tbody>
              {spenders.map((spender) => {
                const name = spender.endUserId ?? spender.apiKey.name;
                return (
                  <tr key={spender.id}>
                    <th scope="row">
                      <button
                        type="button"
                        className="link-button"
                        onClick={() => onPick(spender)}
                        aria-label={`Show ${name} in the chart`}
                      >
                        {name}
                      </button>
                    </th>
                    {byEndUser && <td>{spender.apiKey.name}</td>}
                    <td className="number">{spender.jobs}</td>
                    <td className="number">{spender.images}</td>
                    <td className="number">{formatUsd(usdOfMicro(spender.microUsd))}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </div>
  );
}

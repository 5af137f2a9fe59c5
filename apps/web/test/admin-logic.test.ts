import { describe, expect, it } from 'vitest';
import { describeAuditDetails } from '../src/features/admin/audit-details.ts';
import {
  limitsChanges,
  limitsToCreate,
  limitsToForm,
  parseLimits,
} from '../src/features/admin/limits-form.ts';
import { axisOf } from '../src/features/admin/usage-chart.tsx';
import {
  lastDays,
  rowsOf,
  spendPerDay,
  topSpenders,
  usageCsv,
} from '../src/features/admin/usage-report.ts';
import type { UsageRow } from '../src/graphql/admin-operations.ts';
import { formatUsd } from '../src/ui/format.ts';
import { NO_LIMITS } from './support/fake-admin.ts';

const bot = { id: 'key_1', name: 'bot', keyPrefix: 'zk_1' };
const sam = { id: 'key_2', name: '=HYPERLINK("x")', keyPrefix: 'zk_2' };
const row = (fields: Partial<UsageRow>): UsageRow => ({
  day: null,
  model: null,
  apiKey: null,
  endUserId: null,
  jobs: 1,
  images: 1,
  costUsd: 0.008,
  ...fields,
});

describe('usage report', () => {
  it('covers the 30 UTC days ending today, whatever the local time zone', () => {
    const days = lastDays(new Date('2025-03-01T23:30:00Z'));
    expect(days).toHaveLength(30);
    expect([days[0], days.at(-1)]).toEqual(['2025-01-31', '2025-03-01']);
  });

  it('sums spend per day and model exactly, in micro-USD', () => {
    const rows = Array.from({ length: 1000 }, () =>
      row({ day: '2025-03-01', model: 'Z_IMAGE_TURBO', apiKey: bot }),
    );
    rows.push(row({ day: '2025-03-01', model: 'Z_IMAGE_BASE', apiKey: bot, costUsd: 0.01 }));
    const [first, second] = spendPerDay(
      rows,
      ['2025-02-28', '2025-03-01'],
      ['Z_IMAGE_TURBO', 'Z_IMAGE_BASE'],
    );
    expect(first).toEqual({ day: '2025-02-28', byModel: [0, 0], totalMicroUsd: 0 });
    expect(second).toEqual({
      day: '2025-03-01',
      byModel: [8_000_000, 10_000],
      totalMicroUsd: 8_010_000,
    });
  });

  it('picks a key or an end user of a key, and ranks the top spenders', () => {
    const rows = [
      row({ apiKey: bot, endUserId: 'u1', costUsd: 0.016, jobs: 2, images: 2 }),
      row({ apiKey: bot, endUserId: 'u2', costUsd: 0.03 }),
      row({ apiKey: sam, endUserId: null, costUsd: 0.01 }),
    ];
    expect(rowsOf(rows, { kind: 'key', keyId: bot.id })).toHaveLength(2);
    expect(rowsOf(rows, { kind: 'end user', keyId: bot.id, endUserId: 'u1' })).toEqual([rows[0]]);
    expect(topSpenders(rows, false).map((s) => [s.id, s.microUsd, s.jobs])).toEqual([
      ['key_1', 46_000, 3],
      ['key_2', 10_000, 1],
    ]);
    // Jobs without an end user are no end user's.
    expect(topSpenders(rows, true).map((s) => s.id)).toEqual(['key_1/u2', 'key_1/u1']);
  });

  it('writes CSV with exact amounts, quoting, and no formulas from names', () => {
    const csv = usageCsv([
      row({
        day: '2025-03-02',
        model: 'Z_IMAGE_BASE',
        apiKey: sam,
        endUserId: 'a,b',
        costUsd: 0.01,
      }),
      row({
        day: '2025-03-01',
        model: 'Z_IMAGE_TURBO',
        apiKey: bot,
        costUsd: 0.024,
        jobs: 3,
        images: 3,
      }),
    ]);
    expect(csv.split('\r\n')).toEqual([
      'day,model,api_key_id,api_key_name,api_key_prefix,end_user_id,jobs,images,cost_usd',
      '2025-03-01,Z_IMAGE_TURBO,key_1,bot,zk_1,,3,3,0.024000',
      `2025-03-02,Z_IMAGE_BASE,key_2,"'=HYPERLINK(""x"")",zk_2,"a,b",1,1,0.010000`,
      '',
    ]);
  });

  it('rounds the chart axis up to 1, 2 or 5 times a power of ten, in round steps', () => {
    expect([0, 8_000, 16_000, 4_200_000].map(axisOf)).toEqual([
      { maxMicroUsd: 10_000, steps: 5 },
      { maxMicroUsd: 10_000, steps: 5 },
      { maxMicroUsd: 20_000, steps: 4 },
      { maxMicroUsd: 5_000_000, steps: 5 },
    ]);
  });
});

describe('limits form', () => {
  it('reads empty fields as no limit and refuses what is not an amount or a count', () => {
    const values = limitsToForm(null);
    values.numbers.dailyBudgetUsd = '0.000001';
    values.numbers.maxConcurrentJobs = '3';
    const parsed = parseLimits(values);
    expect(parsed.ok && limitsToCreate(parsed.limits)).toEqual({
      dailyBudgetUsd: 0.000001,
      maxConcurrentJobs: 3,
    });

    values.numbers.dailyBudgetUsd = '0.0000001';
    values.numbers.requestsPerMinute = '-1';
    const refused = parseLimits(values);
    expect(refused.ok ? [] : Object.keys(refused.errors)).toEqual([
      'dailyBudgetUsd',
      'requestsPerMinute',
    ]);
  });

  it('sends only the changes, null for a removed limit, the models only when they changed', () => {
    const current = { ...NO_LIMITS, dailyBudgetUsd: 5, allowedModels: ['Z_IMAGE_TURBO' as const] };
    const values = limitsToForm(current);
    const same = parseLimits(values);
    expect(same.ok && limitsChanges(current, same.limits)).toEqual({});

    values.numbers.dailyBudgetUsd = '';
    values.numbers.monthlyBudgetUsd = '20';
    values.allowedModels = [];
    const next = parseLimits(values);
    expect(next.ok && limitsChanges(current, next.limits)).toEqual({
      dailyBudgetUsd: null,
      monthlyBudgetUsd: 20,
      allowedModels: null,
    });
  });
});

describe('audit details', () => {
  it('tells a creation and a change of limits in words, money from micro-USD', () => {
    expect(
      describeAuditDetails({
        action: 'CREATE_API_KEY',
        details: JSON.stringify({
          name: 'bot',
          scopes: ['generate', 'act-as'],
          limits: {
            dailyBudgetMicroUsd: 2_500_000,
            endUserMaxConcurrentJobs: 1,
            allowedModels: null,
          },
        }),
      }),
    ).toEqual([
      'Scopes: generate, act-as',
      `Daily budget ${formatUsd(2.5)}; Each end user: jobs at once 1`,
    ]);
    expect(
      describeAuditDetails({
        action: 'UPDATE_API_KEY_LIMITS',
        details: JSON.stringify({
          monthlyBudgetMicroUsd: { from: null, to: 20_000_000 },
          allowedModels: { from: ['turbo'], to: null },
        }),
      }),
    ).toEqual([`Monthly budget: none → ${formatUsd(20)}`, 'Allowed models: Turbo → every model']);
  });
});

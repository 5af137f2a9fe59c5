import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { lastDays } from '../src/features/admin/usage-report.ts';
import { formatUsd } from '../src/ui/format.ts';
import { createFakeGateway } from './support/fake-gateway.ts';
import { renderSignedIn } from './support/render.tsx';

function gatewayWithUsage() {
  const gateway = createFakeGateway();
  gateway.viewer.scopes = ['admin'];
  const bot = gateway.admin.addApiKey({ name: 'Discord bot', scopes: ['generate', 'act-as'] });
  const sam = gateway.admin.addApiKey({ name: 'Sam' });
  const days = lastDays(new Date());
  const [longAgo = '', yesterday = '', today = ''] = [days[0], days.at(-2), days.at(-1)];
  gateway.admin.usage.push(
    {
      day: today,
      model: 'Z_IMAGE_TURBO',
      apiKeyId: bot.id,
      endUserId: 'alice',
      costUsd: 0.016,
      images: 2,
    },
    { day: today, model: 'Z_IMAGE_BASE', apiKeyId: bot.id, endUserId: 'bob', costUsd: 0.01 },
    { day: yesterday, model: 'Z_IMAGE_TURBO', apiKeyId: sam.id, costUsd: 0.008 },
    { day: longAgo, model: 'Z_IMAGE_BASE', apiKeyId: sam.id, costUsd: 0.04, images: 4 },
  );
  return gateway;
}

async function openUsage() {
  const gateway = gatewayWithUsage();
  renderSignedIn({ gateway });
  const user = userEvent.setup();
  await user.click(await screen.findByRole('link', { name: 'Admin' }));
  const usage = within(await screen.findByRole('region', { name: /^Usage/ }));
  return { gateway, user, usage };
}

const chart = () => screen.getByRole('img', { name: /^Spend per day of/ });
const rowsOfTable = (name: string) =>
  within(screen.getByRole('region', { name }))
    .getAllByRole('row')
    .slice(1)
    .map((row) => row.textContent);

describe('admin usage', () => {
  it("shows the whole gateway's 30 days, the top keys and end users", async () => {
    const { gateway } = await openUsage();
    await waitFor(() => expect(chart().getAttribute('aria-label')).toContain(formatUsd(0.074)));
    expect(chart().getAttribute('aria-label')).toMatch(/the whole gateway, last 30 days/);
    expect(rowsOfTable('Top keys')).toEqual([
      `Sam25${formatUsd(0.048)}`,
      `Discord bot23${formatUsd(0.026)}`,
    ]);
    expect(rowsOfTable('Top end users')).toEqual([
      `aliceDiscord bot12${formatUsd(0.016)}`,
      `bobDiscord bot11${formatUsd(0.01)}`,
    ]);
    const days = lastDays(new Date());
    expect(gateway.operationsNamed('UsageReport').map((op) => op.variables)).toEqual(
      expect.arrayContaining([
        { from: days[0], to: days.at(-1), groupBy: ['DAY', 'MODEL', 'API_KEY'] },
        { from: days[0], to: days.at(-1), groupBy: ['API_KEY', 'END_USER'] },
      ]),
    );
    // The header shows what the whole gateway spent today, not only this key.
    const header = within(screen.getByRole('banner'));
    expect(header.getByText('Gateway today').nextSibling?.textContent).toBe(formatUsd(0.026));
  });

  it('charts one key or one end user when picked', async () => {
    const { gateway, user } = await openUsage();
    await waitFor(() => expect(chart().getAttribute('aria-label')).toContain(formatUsd(0.074)));

    await user.selectOptions(
      screen.getByRole('combobox', { name: 'Show' }),
      'Discord bot (zk_0001…)',
    );
    await waitFor(() =>
      expect(chart().getAttribute('aria-label')).toMatch(
        new RegExp(`the key Discord bot, last 30 days: \\${formatUsd(0.026)} in all`),
      ),
    );

    await user.click(screen.getByRole('button', { name: 'Show bob in the chart' }));
    await waitFor(() =>
      expect(chart().getAttribute('aria-label')).toMatch(
        new RegExp(`the end user bob of Discord bot, last 30 days: \\${formatUsd(0.01)} in all`),
      ),
    );
    expect(gateway.operationsNamed('UsageReport').at(-1)?.variables.groupBy).toEqual([
      'DAY',
      'MODEL',
      'API_KEY',
      'END_USER',
    ]);
    // The daily figures say the same as the picture.
    const daily = rowsOfTable('Daily figures');
    expect(daily).toHaveLength(30);
    expect(daily[0]).toContain(formatUsd(0.01));
  });
});

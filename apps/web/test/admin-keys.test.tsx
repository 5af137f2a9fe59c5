import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { formatUsd } from '../src/ui/format.ts';
import { NO_LIMITS } from './support/fake-admin.ts';
import { createFakeGateway, modelInfo } from './support/fake-gateway.ts';
import { announcements, renderSignedIn } from './support/render.tsx';

const turbo = modelInfo('Z_IMAGE_TURBO');

function adminGateway() {
  const gateway = createFakeGateway();
  gateway.viewer.scopes = ['admin'];
  return gateway;
}

async function openAdmin(gateway = adminGateway()) {
  const view = renderSignedIn({ gateway });
  const user = userEvent.setup();
  await user.click(await screen.findByRole('link', { name: 'Admin' }));
  await screen.findByRole('heading', { name: 'Admin', level: 1 });
  return { ...view, user };
}

const keysTable = () =>
  within(screen.getByRole('region', { name: 'Table of API keys, newest first' }));
const rowOf = (name: string) =>
  keysTable()
    .getAllByRole('row')
    .find((row) => within(row).queryByRole('rowheader', { name: new RegExp(name) }));

describe('admin area', () => {
  it('is offered to admin keys only', async () => {
    renderSignedIn();
    await screen.findByRole('textbox', { name: 'Prompt' });
    await waitFor(() => expect(screen.getByText('Test key')).toBeTruthy());
    expect(screen.queryByRole('link', { name: 'Admin' })).toBeNull();
    expect(screen.queryByText('Gateway today')).toBeNull();
  });

  it('lists every key with its scopes, limits and spend against its budgets, and keeps the area in the URL', async () => {
    const gateway = adminGateway();
    gateway.admin.addApiKey({
      name: 'Discord bot',
      scopes: ['generate', 'act-as'],
      limits: {
        ...NO_LIMITS,
        dailyBudgetUsd: 5,
        monthlyBudgetUsd: 50,
        endUserMaxConcurrentJobs: 1,
        allowedModels: [turbo.id],
      },
      spentTodayUsd: 1.25,
      spentThisMonthUsd: 10,
      lastUsedAt: '2025-06-01T10:00:00.000Z',
    });
    gateway.admin.addApiKey({ name: 'old laptop', revokedAt: '2025-06-01T11:00:00.000Z' });
    await openAdmin(gateway);
    expect(window.location.search).toBe('?area=admin');

    await screen.findByText('Discord bot');
    const bot = rowOf('Discord bot');
    if (!bot) throw new Error('no row');
    const cells = within(bot)
      .getAllByRole('cell')
      .map((cell) => cell.textContent);
    expect(cells[0]).toBe('generateact-as');
    expect(cells[1]).toContain(`${formatUsd(5)} a day, ${formatUsd(50)} a month`);
    expect(cells[1]).toContain('Each end user: 1 at once');
    expect(cells[1]).toContain(`Only ${turbo.name.replace(/^Z-Image /, '')}`);
    expect(cells[2]).toBe(`${formatUsd(1.25)} of ${formatUsd(5)}`);
    expect(cells[3]).toBe(`${formatUsd(10)} of ${formatUsd(50)}`);
    expect(cells[5]).toBe('Active');
    expect(
      within(bot).getByRole('meter', { name: 'Share of the daily budget of Discord bot spent' }),
    ).toHaveProperty('value', 1.25);

    const old = rowOf('old laptop');
    if (!old) throw new Error('no row');
    expect(within(old).getByText(/Revoked/)).toBeTruthy();
    expect(within(old).queryByRole('button')).toBeNull();
    expect(within(old).getByText('Never')).toBeTruthy();
  });

  it('creates a key, shows its secret and sign-in link once, and lists it', async () => {
    const { gateway, user } = await openAdmin();
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Create an API key' }));
    await user.type(dialog.getByRole('textbox', { name: 'Name' }), "Sam's laptop");
    await user.click(dialog.getByRole('checkbox', { name: /^read/ }));
    await user.type(
      dialog.getAllByRole('textbox', { name: 'Daily budget (USD)' })[0] as HTMLElement,
      '2.5',
    );
    await user.click(dialog.getByRole('checkbox', { name: turbo.name }));
    await user.click(dialog.getByRole('button', { name: 'Create key' }));

    const created = within(await screen.findByRole('dialog', { name: 'Key created' }));
    // Only what was set is sent: an absent limit is no limit.
    expect(gateway.operationsNamed('CreateApiKey')[0]?.variables).toEqual({
      input: {
        name: "Sam's laptop",
        scopes: ['generate'],
        limits: { dailyBudgetUsd: 2.5, allowedModels: [turbo.id] },
      },
    });
    const [key] = [...gateway.admin.keys.values()];
    const secret = `zk_secret_of_${key?.id}`;
    expect(created.getByRole('textbox', { name: 'Secret' })).toHaveProperty('value', secret);
    expect(created.getByRole('textbox', { name: 'Sign-in link' })).toHaveProperty(
      'value',
      `${window.location.origin}/#key=${secret}`,
    );
    expect(announcements()).toContain("Key Sam's laptop created.");

    await user.click(created.getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(document.body.textContent).not.toContain(secret);
    expect(await keysTable().findByText("Sam's laptop")).toBeTruthy();
    // The audit log shows the creation.
    const audit = within(
      screen.getByRole('region', { name: 'Table of key changes, newest first' }),
    );
    expect((await audit.findByRole('row', { name: /Sam's laptop/ })).textContent).toContain(
      'Created',
    );
  });

  it('refuses a bad limit before sending, and puts a gateway error under its field', async () => {
    const { gateway, user } = await openAdmin();
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Create an API key' }));
    await user.type(dialog.getByRole('textbox', { name: 'Name' }), 'bot');
    const jobsAtOnce = dialog.getAllByRole('textbox', { name: 'Jobs at once' })[0] as HTMLElement;
    await user.type(jobsAtOnce, '1.5');
    await user.click(dialog.getByRole('button', { name: 'Create key' }));
    expect(dialog.getByText('A whole number, or empty for no limit.')).toBeTruthy();
    expect(jobsAtOnce.getAttribute('aria-invalid')).toBe('true');
    expect(gateway.operationsNamed('CreateApiKey')).toHaveLength(0);

    await user.clear(jobsAtOnce);
    gateway.failNext('CreateApiKey', 'BAD_USER_INPUT', 'name is already taken', {
      field: 'input.name',
    });
    await user.click(dialog.getByRole('button', { name: 'Create key' }));
    expect(await dialog.findByText('name is already taken.')).toBeTruthy();
    expect(dialog.getByRole('textbox', { name: 'Name' }).getAttribute('aria-invalid')).toBe('true');
  });

  it('edits limits, sending only the changes: null clears a limit, an absent one is kept', async () => {
    const gateway = adminGateway();
    gateway.admin.addApiKey({
      name: 'friend',
      limits: { ...NO_LIMITS, dailyBudgetUsd: 5, maxConcurrentJobs: 2 },
    });
    const { user } = await openAdmin(gateway);
    await user.click(await screen.findByRole('button', { name: 'Edit limits of friend' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Limits of friend' }));
    const [daily] = dialog.getAllByRole('textbox', { name: 'Daily budget (USD)' });
    expect(daily).toHaveProperty('value', '5');
    await user.clear(daily as HTMLElement);
    await user.type(
      dialog.getAllByRole('textbox', { name: 'Requests per minute' })[0] as HTMLElement,
      '30',
    );
    await user.click(dialog.getByRole('button', { name: 'Save limits' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const [update] = gateway.operationsNamed('UpdateApiKeyLimits');
    expect(update?.variables.limits).toEqual({ dailyBudgetUsd: null, requestsPerMinute: 30 });
    const row = rowOf('friend');
    if (!row) throw new Error('no row');
    await waitFor(() => expect(row.textContent).toContain('2 at once, 30 a minute'));
    expect(row.textContent).not.toContain('a day');
  });

  it('revokes a key only once confirmed', async () => {
    const gateway = adminGateway();
    gateway.admin.addApiKey({ name: 'friend' });
    const { user } = await openAdmin(gateway);

    await user.click(await screen.findByRole('button', { name: 'Revoke friend' }));
    let dialog = within(screen.getByRole('dialog', { name: 'Revoke friend?' }));
    await user.click(dialog.getByRole('button', { name: 'Keep the key' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(gateway.operationsNamed('RevokeApiKey')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Revoke friend' }));
    dialog = within(screen.getByRole('dialog', { name: 'Revoke friend?' }));
    await user.click(dialog.getByRole('button', { name: 'Revoke key' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(gateway.operationsNamed('RevokeApiKey')).toHaveLength(1);
    await waitFor(() => expect(rowOf('friend')?.textContent).toContain('Revoked'));
    expect(announcements()).toContain('Key friend revoked.');
    // Its buttons are gone with the revocation: the focus is on the keys' heading, not lost.
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: /^API keys/ }));
  });
});

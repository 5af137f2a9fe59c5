/**
 * The admin area end to end, on the production build served by the real gateway on the Pixazo
 * simulator: an operator creates a key and hands its `#key=` link to a friend, who signs in in
 * another browser context and generates; the spend shows in the operator's report, CSV
 * included; the operator revokes the key and the friend's dashboard is signed out (the gateway
 * closes the revoked key's socket with 4403). Every wait is for a state, never for a time.
 */
import { readFile } from 'node:fs/promises';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useE2eFile } from './support/e2e-file.ts';
import {
  expectHeaderOnOneRow,
  expectNoAxeViolations,
  newPage,
  openDashboard,
  snapshot,
  submit,
  waitForImage,
  waitForStatus,
} from './support/pages.ts';

const e2e = useE2eFile();

async function openAdminArea(options: BrowserContextOptions = {}): Promise<Page> {
  const page = await openDashboard(
    e2e.browser,
    e2e.stack.url,
    await e2e.stack.createKey('operator', {}, ['admin']),
    options,
  );
  await page
    .getByRole('navigation', { name: 'Areas' })
    .getByRole('link', { name: 'Admin' })
    .click();
  await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
  return page;
}

const keyRow = (page: Page, name: string) =>
  page
    .getByRole('region', { name: 'Table of API keys, newest first' })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${name}`) }) });

describe('admin area against the real gateway', () => {
  it('creates a key for a friend, shows its spend in the report, changes its limits, revokes it', async () => {
    const admin = await openAdminArea();
    await admin.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await expectNoAxeViolations(admin, 'admin area');

    // Create the key: its secret and sign-in link are shown once.
    await admin.getByRole('button', { name: 'Create key' }).click();
    const form = admin.getByRole('dialog', { name: 'Create an API key' });
    await form.getByRole('textbox', { name: 'Name' }).fill('friend');
    await form.getByRole('textbox', { name: 'Daily budget (USD)' }).first().fill('1');
    await expectNoAxeViolations(admin, 'create key dialog');
    await form.getByRole('button', { name: 'Create key' }).click();
    const created = admin.getByRole('dialog', { name: 'Key created' });
    const link = await created.getByRole('textbox', { name: 'Sign-in link' }).inputValue();
    const secret = await created.getByRole('textbox', { name: 'Secret' }).inputValue();
    expect(link).toBe(`${e2e.stack.url}/#key=${encodeURIComponent(secret)}`);
    await created.getByRole('button', { name: 'Copy link' }).click();
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await expectNoAxeViolations(admin, 'key created dialog');
    await snapshot(admin, 'admin-key-created', false);
    await created.getByRole('button', { name: 'Done' }).click();
    await created.waitFor({ state: 'detached' });
    expect(await admin.content()).not.toContain(secret);
    await keyRow(admin, 'friend').getByText('Active').waitFor();

    // The friend signs in with the link in another browser context and generates.
    const friend = await newPage(e2e.browser);
    await friend.goto(link);
    await friend.getByRole('textbox', { name: 'Prompt' }).waitFor();
    expect(await friend.getByRole('navigation', { name: 'Areas' }).count()).toBe(0);
    const card = await submit(friend, 'A kite festival over the dunes');
    await waitForImage(card);
    await waitForStatus(card, 'Completed');
    const cost = (await friend.locator('.history-cost').first().textContent())?.trim() ?? '';
    expect(cost).toMatch(/^\$0\.0\d+$/);

    // The operator's history names the friend's key beside the job.
    await admin
      .getByRole('navigation', { name: 'Areas' })
      .getByRole('link', { name: 'Generate' })
      .click();
    await admin
      .getByRole('list', { name: 'Jobs, newest first' })
      .getByRole('button', { name: /A kite festival over the dunes.* · friend/ })
      .waitFor();
    await admin.goBack();
    await admin.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();

    // Its spend reaches the operator's report (the admin's job events refetch it), the
    // header's gateway-wide figure and the key's row.
    const topKeys = admin.getByRole('region', { name: 'Top keys' });
    await topKeys.getByRole('row', { name: new RegExp(`friend .*\\${cost}$`) }).waitFor();
    await admin.getByRole('banner').locator('.usage-gateway', { hasText: cost }).waitFor();
    await keyRow(admin, 'friend').getByText(`${cost} of $1.00`).waitFor();
    const picker = admin.getByRole('combobox', { name: 'Show' });
    const friendOption = picker.getByRole('option', { name: /^friend / });
    await picker.selectOption((await friendOption.getAttribute('value')) ?? '');
    await admin
      .getByRole('img', { name: new RegExp(`of the key friend, last 30 days: \\${cost} in all`) })
      .waitFor();
    await expectNoAxeViolations(admin, 'admin area with spend');
    await snapshot(admin, 'admin-usage');

    const [download] = await Promise.all([
      admin.waitForEvent('download'),
      admin.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = await readFile(await download.path(), 'utf8');
    const [header, ...lines] = csv.trim().split('\r\n');
    expect(header).toBe(
      'day,model,api_key_id,api_key_name,api_key_prefix,end_user_id,jobs,images,cost_usd',
    );
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\d,Z_IMAGE_TURBO,key_\\w+,friend,zk_\\w+,,1,1,${cost.slice(1)}0*$`,
        ),
      ),
    ]);

    // Change its limits: the emptied daily budget is removed, the monthly one added.
    await keyRow(admin, 'friend').getByRole('button', { name: 'Edit limits of friend' }).click();
    const limits = admin.getByRole('dialog', { name: 'Limits of friend' });
    await limits.getByRole('textbox', { name: 'Daily budget (USD)' }).first().fill('');
    await limits.getByRole('textbox', { name: 'Monthly budget (USD)' }).fill('10');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await limits.waitFor({ state: 'detached' });
    await keyRow(admin, 'friend').getByText('$10.00 a month').waitFor();
    expect(await keyRow(admin, 'friend').textContent()).not.toContain('a day');

    // Revoke it: the friend's open dashboard is signed out.
    await keyRow(admin, 'friend').getByRole('button', { name: 'Revoke friend' }).click();
    const confirm = admin.getByRole('dialog', { name: 'Revoke friend?' });
    await expectNoAxeViolations(admin, 'revoke confirmation');
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await keyRow(admin, 'friend')
      .getByText(/^Revoked/)
      .waitFor();
    await friend
      .getByRole('alert')
      .filter({ hasText: 'The gateway no longer accepts this API key' })
      .waitFor();
    expect(await friend.evaluate(() => localStorage.getItem('zimage.apiKey'))).toBeNull();

    // The audit log has the three changes, newest first, each by the operator's key.
    const audit = admin.getByRole('region', { name: 'Table of key changes, newest first' });
    await audit.getByRole('row', { name: /friend.*Revoked/ }).waitFor();
    const changes = await audit.getByRole('row').filter({ hasText: 'friend' }).allTextContents();
    expect(changes).toEqual([
      expect.stringMatching(/Revoked.*operator/),
      expect.stringMatching(
        /Changed limits.*Daily budget: \$1\.00 → none.*Monthly budget: none → \$10\.00.*operator/,
      ),
      expect.stringMatching(/Created.*Scopes: generate, read.*Daily budget \$1\.00.*operator/),
    ]);
  });

  it('works at phone width in the dark scheme', async () => {
    const admin = await openAdminArea({
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
    });
    await admin.getByRole('region', { name: 'Table of API keys, newest first' }).waitFor();
    // The areas and the gateway's spend join the header's one row.
    await admin.getByRole('banner').getByText('Gateway today').waitFor({ state: 'attached' });
    await expectHeaderOnOneRow(admin);
    await expectNoAxeViolations(admin, 'admin area, dark, phone');
    await snapshot(admin, 'admin-dark-phone');
    // The keys table scrolls inside its own region, not the page.
    const overflow = await admin.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
  });
});

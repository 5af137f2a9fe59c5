/**
 * The dashboard end to end: headless Debian Chromium on the production build, served by the
 * real gateway on the Pixazo simulator, both started here. Every wait is for a state (a badge,
 * an image, a server answer), never for a time. Any Content-Security-Policy violation fails the
 * test it happens in. Screenshots go to apps/web/test-results/.
 */
import type { BrowserContextOptions } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { takeCspViolations } from './support/browser.ts';
import { useE2eFile } from './support/e2e-file.ts';
import {
  announcements,
  connection,
  expectNoAxeViolations,
  jobIdOf,
  liveCard,
  newPage as newPageIn,
  openDashboard as openDashboardIn,
  snapshot,
  submit,
  waitForImage,
  waitForStatus,
} from './support/pages.ts';

const e2e = useE2eFile();

const newPage = (options: BrowserContextOptions = {}) => newPageIn(e2e.browser, options);
const openDashboard = (key: string, options: BrowserContextOptions = {}) =>
  openDashboardIn(e2e.browser, e2e.stack.url, key, options);

describe('dashboard against the real gateway', () => {
  it('tells a wrong key apart clearly', async () => {
    const page = await newPage();
    await page.goto(e2e.stack.url);
    await page.getByLabel('API key').fill('zk_this-is-not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not accepted/);
    await expectNoAxeViolations(page, 'sign-in');
    await snapshot(page, 'sign-in-wrong-key');
  });

  it('runs under its Content-Security-Policy: an injected inline script does not run', async () => {
    const page = await openDashboard(await e2e.stack.createKey('csp'));
    await connection(page, 'Live').waitFor();
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.head.append(script);
      return 'injected' in window;
    });
    expect(ran).toBe(false);
    // Reported twice, by Chromium's console and by the page's violation event: both are taken.
    const reported: string[] = [];
    await expect
      .poll(() => {
        reported.push(...takeCspViolations());
        return reported;
      })
      .toEqual([
        expect.stringMatching(/inline script violates .*script-src 'self'/),
        expect.stringMatching(/violation: script-src-elem blocked inline/),
      ]);
  });

  it('signs in from a #key= link, removes the key from the address bar, and starts empty', async () => {
    const key = await e2e.stack.createKey('empty-state');
    const page = await openDashboard(key);

    expect(page.url()).not.toContain(key);
    expect(await page.evaluate(() => localStorage.getItem('zimage.apiKey'))).toBe(key);
    await page.getByText('Nothing running').waitFor();
    await page.getByText('No jobs yet').waitFor();
    await connection(page, 'Live').waitFor();
    await expectNoAxeViolations(page, 'empty');
    await snapshot(page, 'empty');
  });

  it('submits a job and shows it live from queued to its image', async () => {
    const key = await e2e.stack.createKey('live');
    const page = await openDashboard(key);
    const card = await submit(page, 'A lighthouse on a basalt cliff at dawn', {
      model: 'Z-Image Base',
    });

    await waitForStatus(card, 'Processing');
    await snapshot(page, 'running');
    await expectNoAxeViolations(page, 'running');

    await waitForImage(card);
    await waitForStatus(card, 'Completed');
    const spoken = await announcements(page);
    expect(spoken).toContain('is processing.');
    expect(spoken).toContain('is done: 1 image, in its card under Live and in History');
    await page
      .getByRole('list', { name: 'Jobs, newest first' })
      .getByRole('button', { name: /A lighthouse on a basalt cliff/ })
      .waitFor();
    await expectNoAxeViolations(page, 'done');
    await snapshot(page, 'done');

    // The same history at phone width in the dark scheme.
    const phone = await openDashboard(key, {
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
    });
    await phone.getByRole('button', { name: /A lighthouse on a basalt cliff/ }).waitFor();
    await expectNoAxeViolations(phone, 'done, dark, phone');
    await snapshot(phone, 'done-dark-phone');
    await phone.getByRole('button', { name: /A lighthouse on a basalt cliff/ }).click();
    await phone
      .getByRole('dialog', { name: 'Job details' })
      .getByRole('link', { name: /Download/ })
      .waitFor();
    await expectNoAxeViolations(phone, 'done, dark, phone, detail open');
    await snapshot(phone, 'detail-dark-phone', false);
    // Escape closes the detail and gives the focus back to the row that opened it.
    await phone.keyboard.press('Escape');
    await phone.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await phone.evaluate(() => document.activeElement?.textContent)).toContain(
      'A lighthouse on a basalt cliff',
    );
  });

  it('reattaches to a running job after a page reload', async () => {
    const key = await e2e.stack.createKey('reload');
    const page = await openDashboard(key);
    const prompt = 'An old map of an imaginary archipelago';
    const card = await submit(page, prompt, { model: 'Z-Image Base' });
    await waitForStatus(card, 'Processing');

    await page.reload();
    const reattached = liveCard(page, prompt);
    await reattached.waitFor();
    expect(['Queued', 'Processing']).toContain(
      (await reattached.locator('.status-badge').textContent())?.trim(),
    );
    await waitForImage(reattached);
    await waitForStatus(reattached, 'Completed');
  });

  it('recovers after the connection drops, catching up on what it missed', async () => {
    const key = await e2e.stack.createKey('reconnect');
    const page = await openDashboard(key);
    const card = await submit(page, 'A glass greenhouse in a snowstorm', { model: 'Z-Image Base' });
    await waitForStatus(card, 'Processing');
    const jobId = await jobIdOf(card);

    e2e.stack.link.cut();
    await connection(page, 'Reconnecting…').waitFor();
    await snapshot(page, 'reconnecting');
    // The job ends while the browser is cut off: its event is lost to this page.
    await e2e.stack.jobReaches(key, jobId, 'COMPLETED');
    expect(await card.locator('.status-badge').textContent()).toContain('Processing');

    e2e.stack.link.restore();
    await connection(page, 'Live').waitFor();
    await waitForImage(card);
    await waitForStatus(card, 'Completed');
    expect(await announcements(page)).toContain('Live updates are back.');
  });

  it('shows a failed job with its message and a retry', async () => {
    const key = await e2e.stack.createKey('failure');
    const page = await openDashboard(key);
    const card = await submit(page, '[sim:fail] A robot painting itself');

    await waitForStatus(card, 'Failed');
    await card.getByRole('button', { name: 'Retry' }).waitFor();
    expect(await card.locator('.job-error').textContent()).toBeTruthy();
    await expectNoAxeViolations(page, 'failed');
    await snapshot(page, 'failed');
  });

  it('explains an over-budget key before and after submitting', async () => {
    const key = await e2e.stack.createKey('tight budget', { dailyBudgetMicroUsd: 5000 });
    const page = await openDashboard(key);
    await page.getByText(/costs more than what is left/).waitFor();

    await page.getByRole('textbox', { name: 'Prompt' }).fill('A very expensive sunset');
    await page.getByRole('button', { name: /Generate/ }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Daily budget of this API key exceeded/);
    expect(await page.getByRole('region', { name: /^Live/ }).getByRole('listitem').count()).toBe(0);
    await snapshot(page, 'over-budget');
  });
});

/**
 * The dashboard's image-tool flows end to end (issue 15): honest cancel, the draft across a
 * reload, the gallery (grid, viewer, named downloads, compare) and phone-width layout. Real
 * Chromium on the production build, the real gateway on the simulator with ONE Pixazo slot, so
 * a second job waits in the gateway's own queue while the first runs. Waits are for states.
 */
import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useE2eFile } from './support/e2e-file.ts';
import {
  expectHeaderOnOneRow,
  expectNoAxeViolations,
  jobIdOf,
  liveCard,
  openDashboard as openSignedIn,
  snapshot,
  submit,
  waitForStatus,
} from './support/pages.ts';

const e2e = useE2eFile(0.5, { pixazoMaxConcurrency: 1 });

const openDashboard = (key: string, options: BrowserContextOptions = {}): Promise<Page> =>
  openSignedIn(e2e.browser, e2e.stack.url, key, options);

describe('dashboard flows of an image tool', () => {
  it('cancels free while a job waits in the gateway queue, and never after it was sent', async () => {
    const key = await e2e.stack.createKey('honest cancel');
    const page = await openDashboard(key);
    const sent = await submit(page, 'A slow painting of a harbour', { model: 'Z-Image Base' });
    await sent.getByText('Already sent — paid').waitFor();
    const waiting = await submit(page, 'A second harbour, waiting its turn');
    await waiting.getByText("Number 1 in the gateway's queue").waitFor();
    await expect.poll(() => page.title()).toBe('(2) zimage');
    expect(await sent.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    await snapshot(page, 'honest-cancel');

    // Before the first job ends and frees the slot (a Base job runs about 20 s here).
    await waiting.getByRole('button', { name: 'Cancel' }).click();
    await waiting.getByText('Cancelled · not charged').waitFor();
    await expectNoAxeViolations(page, 'one sent, one cancelled while queued');
    // The one at Pixazo delivers what was paid for.
    await waitForStatus(sent, 'Completed');
    await sent.getByRole('img').first().waitFor();
    await expect.poll(() => page.title()).toBe('zimage');
  });

  it("retries a failed job in the failed card's place", async () => {
    const key = await e2e.stack.createKey('retry');
    const page = await openDashboard(key);
    const prompt = '[sim:fail] A robot painting itself';
    const card = await submit(page, prompt);
    await waitForStatus(card, 'Failed');
    const failedId = await jobIdOf(card);

    await card.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => jobIdOf(liveCard(page, prompt))).not.toBe(failedId);
    expect(await liveCard(page, prompt).count()).toBe(1);
    // The new card has the focus the Retry button had.
    expect(await page.evaluate(() => document.activeElement?.id.replace(/^job-card-/, ''))).toBe(
      await jobIdOf(liveCard(page, prompt)),
    );
    await waitForStatus(liveCard(page, prompt), 'Failed');
  });

  it('keeps the draft across a reload, and brings the last prompt back with ArrowUp', async () => {
    const key = await e2e.stack.createKey('draft');
    const page = await openDashboard(key);
    const prompt = page.getByRole('textbox', { name: 'Prompt' });
    await page.getByRole('radio', { name: /Z-Image Base/ }).check();
    await prompt.fill('A draft I have not sent yet');
    await page.reload();
    await prompt.waitFor();
    expect(await prompt.inputValue()).toBe('A draft I have not sent yet');
    expect(await page.getByRole('radio', { name: /Z-Image Base/ }).isChecked()).toBe(true);

    await prompt.press('Control+Enter');
    const card = liveCard(page, 'A draft I have not sent yet');
    await card.waitFor();
    await prompt.fill('');
    await page.reload();
    await prompt.waitFor();
    await prompt.focus();
    await prompt.press('ArrowUp');
    expect(await prompt.inputValue()).toBe('A draft I have not sent yet');
    // The key is where it always was, and nowhere else.
    const holdingKey = await page.evaluate(
      (secret) =>
        Object.keys(localStorage).filter((name) => localStorage.getItem(name)?.includes(secret)),
      key,
    );
    expect(holdingKey).toEqual(['zimage.apiKey']);
    await waitForStatus(liveCard(page, 'A draft I have not sent yet'), 'Completed');
  });

  it('shows the history as a gallery: viewer with arrow keys and named downloads, and compare', async () => {
    const key = await e2e.stack.createKey('gallery');
    const page = await openDashboard(key);
    const card = await submit(page, 'A red fox in fresh snow', { images: 2 });
    await waitForStatus(card, 'Completed');
    const jobId = await jobIdOf(card);

    await page.getByRole('button', { name: 'Grid' }).click();
    const grid = page.getByRole('list', { name: 'Images, newest first' });
    await grid.getByRole('button', { name: /A red fox in fresh snow”, image 1 of 2/ }).click();
    const viewer = page.getByRole('dialog', { name: /Image 1 of 2/ });
    await viewer.waitFor();
    await page.keyboard.press('ArrowRight');
    const second = page.getByRole('dialog', { name: /Image 2 of 2/ });
    await second.waitFor();
    await expectNoAxeViolations(page, 'image viewer');
    await snapshot(page, 'gallery-viewer', false);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      second.getByRole('link', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`a-red-fox-in-fresh-snow_${jobId}_2.png`);
    await page.keyboard.press('Escape');
    await second.waitFor({ state: 'detached' });

    for (const index of [1, 2]) {
      await grid
        .getByRole('checkbox', { name: new RegExp(`fresh snow”, image ${index} of 2`) })
        .check();
    }
    await page.getByRole('button', { name: 'Compare 2' }).click();
    const compare = page.getByRole('dialog', { name: 'Compare 2 images' });
    await compare.waitFor();
    expect(await compare.getByRole('listitem').count()).toBe(2);
    await compare.getByText('Same settings').waitFor();
    await expectNoAxeViolations(page, 'compare');
    await snapshot(page, 'gallery-compare', false);
    await page.keyboard.press('Escape');
    await snapshot(page, 'gallery-grid');
  });

  it('fits a phone: one-row header, whole prompts, no scroll box, wrapping snippets', async () => {
    const key = await e2e.stack.createKey('phone');
    const prompt = 'A red fox asleep in fresh snow under a pale winter sun, long lens';
    const page = await openDashboard(key, { viewport: { width: 390, height: 844 } });
    const card = await submit(page, prompt);
    await waitForStatus(card, 'Completed');
    const row = page
      .getByRole('list', { name: 'Jobs, newest first' })
      .getByRole('button', { name: /A red fox asleep/ });
    await row.waitFor();

    await expectHeaderOnOneRow(page);
    // Nothing wider than the screen, and nothing but the page (and the prompt field) scrolls.
    expect(
      await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]),
    ).toEqual([390, 390]);
    const scrollBoxes = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((element) => {
            if (element.tagName === 'TEXTAREA') return false;
            const style = getComputedStyle(element);
            const scrolls = /auto|scroll/.test(`${style.overflowX} ${style.overflowY}`);
            return (
              scrolls &&
              (element.scrollHeight > element.clientHeight + 1 ||
                element.scrollWidth > element.clientWidth + 1)
            );
          })
          .map((element) => element.className),
      );
    expect(await scrollBoxes()).toEqual([]);
    // The history shows the prompt over two lines, far more than a dozen characters of it.
    const shown = await row.locator('.history-prompt').evaluate((element) => {
      const box = element.getBoundingClientRect();
      const lineHeight = Number.parseFloat(getComputedStyle(element).lineHeight);
      return { width: box.width, lines: Math.round(box.height / lineHeight) };
    });
    expect(shown.lines).toBe(2);
    expect(shown.width).toBeGreaterThan(140);
    await expectNoAxeViolations(page, 'phone');
    await snapshot(page, 'phone-done');

    await row.click();
    const detail = page.getByRole('dialog', { name: 'Job details' });
    await detail.locator('.snippet').waitFor();
    const snippet = await detail
      .locator('.snippet')
      .evaluate((element) => [element.scrollWidth, element.clientWidth]);
    expect(snippet[0]).toBeLessThanOrEqual(snippet[1] as number);
    await snapshot(page, 'phone-detail', false);
  });
});

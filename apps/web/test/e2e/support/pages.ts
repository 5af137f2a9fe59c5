/**
 * What the e2e tests do with dashboard pages: open one signed in, submit a job, wait for a card's
 * status or image, scan with axe-core, take screenshots (into apps/web/test-results/).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { newGuardedPage } from './browser.ts';

export const RESULTS_DIR = resolve(import.meta.dirname, '../../../test-results');
/** WCAG 2.1 A and AA. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export const makeResultsDir = () => mkdir(RESULTS_DIR, { recursive: true });

export function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  return newGuardedPage(browser, { viewport: { width: 1280, height: 900 }, ...options });
}

/** Signs in through a `#key=` link, as an operator's shared link would. */
export async function openDashboard(
  browser: Browser,
  baseUrl: string,
  key: string,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const page = await newPage(browser, options);
  await page.goto(`${baseUrl}/#key=${encodeURIComponent(key)}`);
  await page.getByRole('textbox', { name: 'Prompt' }).waitFor();
  return page;
}

/** A full-page screenshot, or the viewport only (with a modal open, the page behind is noise). */
export const snapshot = (page: Page, name: string, fullPage = true) =>
  page.screenshot({ path: resolve(RESULTS_DIR, `${name}.png`), fullPage });

export async function expectNoAxeViolations(page: Page, state: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const report = violations.map(
    (violation) =>
      `${violation.id}: ${violation.help}\n${violation.nodes.map((node) => `  ${node.target.join(' ')}`).join('\n')}`,
  );
  expect(report, `axe violations in the ${state} state`).toEqual([]);
}

export async function submit(
  page: Page,
  prompt: string,
  options: { model?: 'Z-Image Base'; images?: number } = {},
): Promise<Locator> {
  if (options.model) await page.getByRole('radio', { name: new RegExp(options.model) }).check();
  if (options.images) {
    await page
      .getByRole('group', { name: 'Images' })
      .getByRole('radio', { name: String(options.images), exact: true })
      .check();
  }
  const field = page.getByRole('textbox', { name: 'Prompt' });
  await field.fill(prompt);
  await field.press('Control+Enter');
  const card = liveCard(page, prompt);
  await card.waitFor();
  return card;
}

export const liveCard = (page: Page, prompt: string) =>
  page.getByRole('region', { name: /^Live/ }).getByRole('listitem').filter({ hasText: prompt });

export const waitForStatus = (card: Locator, status: string) =>
  card.locator('.status-badge', { hasText: status }).waitFor();

/** Waits until the card's first image has actually loaded from the gateway. */
export async function waitForImage(card: Locator): Promise<void> {
  const image = card.getByRole('img').first();
  await image.waitFor();
  await image.evaluate(
    (element: HTMLImageElement) =>
      new Promise<void>((done, fail) => {
        if (element.complete && element.naturalWidth > 0) return done();
        element.addEventListener('load', () => done(), { once: true });
        element.addEventListener('error', () => fail(new Error(`cannot load ${element.src}`)), {
          once: true,
        });
      }),
  );
}

export const announcements = (page: Page) => page.getByTestId('announcer').textContent();

/** The connection indicator in the header. */
export const connection = (page: Page, label: 'Live' | 'Reconnecting…') =>
  page.getByRole('banner').getByText(label, { exact: true });

/**
 * Every part of the header shown (brand, areas, each usage figure, connection, sign out) shares
 * one line, side by side: none starts below another, none overlaps the next.
 */
export async function expectHeaderOnOneRow(page: Page): Promise<void> {
  const parts = await page.evaluate(() =>
    [...document.querySelectorAll('.app-header > :not(.usage), .app-header .usage > *')]
      .map((part) => ({ part: part.className, box: part.getBoundingClientRect() }))
      // Visually hidden parts (read out only) are 1 px boxes.
      .filter(({ box }) => box.width > 1 && box.height > 1)
      .map(({ part, box }) => ({
        part,
        left: box.left,
        right: box.right,
        top: box.top,
        bottom: box.bottom,
      }))
      .sort((a, b) => a.left - b.left),
  );
  const layout = JSON.stringify(parts);
  const lowestTop = Math.max(...parts.map((part) => part.top));
  const highestBottom = Math.min(...parts.map((part) => part.bottom));
  expect(lowestTop, `a header part starts below another: ${layout}`).toBeLessThan(highestBottom);
  const overlaps = parts.filter((part, at) => at > 0 && part.left < (parts[at - 1]?.right ?? 0));
  expect(overlaps, `header parts overlapping the one before: ${layout}`).toEqual([]);
}

/** The job id of a card (its heading is labelled `job-<id>-prompt`). */
export async function jobIdOf(card: Locator): Promise<string> {
  const headingId = await card.getByRole('heading').getAttribute('id');
  const id = headingId?.match(/^job-(.+)-prompt$/)?.[1];
  if (!id) throw new Error('card without a job id');
  return id;
}

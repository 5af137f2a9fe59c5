/**
 * The gateway's GraphiQL in headless Chromium: its page, assets and Monaco workers load and it
 * runs an operation under its Content-Security-Policy, without a single violation.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { expectNoCspViolations, launchChromium, newGuardedPage } from './support/browser.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

afterEach(expectNoCspViolations);

it('opens GraphiQL and runs its default query, all under its CSP', async () => {
  const page = await newGuardedPage(browser);
  const assets: string[] = [];
  page.on('response', (response) => {
    if (response.url().includes('/graphql/graphiql/')) assets.push(response.url());
  });
  await page.goto(`${stack.url}/graphql`);
  await page.getByRole('button', { name: /Execute query/ }).click();
  // No key in the Headers tab yet: the gateway's answer says what to send.
  await page.getByText('An API key is required').waitFor();
  // The app, its styles and icon, and Monaco's workers (at least the editor's) came from here.
  expect(assets.filter((url) => url.includes('-worker-')).length).toBeGreaterThan(0);
});

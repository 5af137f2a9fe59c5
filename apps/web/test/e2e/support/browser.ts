/**
 * Headless Debian Chromium for the e2e tests, whose pages fail their test on any
 * Content-Security-Policy violation: Chromium reports each on the console ("… violates the
 * following Content Security Policy directive …"), and a script added to every page logs each
 * `securitypolicyviolation` event the same way, so both end up in `cspViolations`. A test file
 * calls `expectNoCspViolations` after each test (and may `takeCspViolations` it provoked).
 */
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Violations seen since the last take, in every page of every guarded context. */
const cspViolations: string[] = [];

/** A page in a new context whose CSP violations are collected. */
export async function newGuardedPage(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(
        `Content Security Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`,
      );
    });
  });
  context.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) {
      const { url } = message.location();
      cspViolations.push(url ? `${url}: ${message.text()}` : message.text());
    }
  });
  return context.newPage();
}

/** The violations collected so far, which no longer count against the test. */
export function takeCspViolations(): string[] {
  return cspViolations.splice(0);
}

export function expectNoCspViolations(): void {
  expect(takeCspViolations(), 'Content-Security-Policy violations').toEqual([]);
}

/**
 * What every e2e file starts with: the stack (gateway + simulator on the production build) and
 * Chromium, up before its tests and closed after them, the results directory made, and any
 * Content-Security-Policy violation failing the test it happens in.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { expectNoCspViolations, launchChromium } from './browser.ts';
import { makeResultsDir } from './pages.ts';
import { type Stack, startStack } from './stack.ts';

export interface E2eFile {
  readonly stack: Stack;
  readonly browser: Browser;
}

export function useE2eFile(...stackOptions: Parameters<typeof startStack>): E2eFile {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    await makeResultsDir();
    stack = await startStack(...stackOptions);
    browser = await launchChromium();
  });
  afterEach(expectNoCspViolations);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the stack starts in beforeAll');
    return value;
  };
  return {
    get stack() {
      return started(stack);
    },
    get browser() {
      return started(browser);
    },
  };
}

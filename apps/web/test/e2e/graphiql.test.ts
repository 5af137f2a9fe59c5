/**
 * The gateway's GraphiQL in headless Chromium: its page, assets and Monaco workers load and it
 * runs an operation under its Content-Security-Policy, without a single violation.
 */
import { expect, it } from 'vitest';
import { newGuardedPage } from './support/browser.ts';
import { useE2eFile } from './support/e2e-file.ts';

const e2e = useE2eFile();

it('opens GraphiQL and runs its default query, all under its CSP', async () => {
  const page = await newGuardedPage(e2e.browser);
  const assets: string[] = [];
  page.on('response', (response) => {
    if (response.url().includes('/graphql/graphiql/')) assets.push(response.url());
  });
  await page.goto(`${e2e.stack.url}/graphql`);
  await page.getByRole('button', { name: /Execute query/ }).click();
  // No key in the Headers tab yet: the gateway's answer says what to send.
  await page.getByText('An API key is required').waitFor();
  // The app, its styles and icon, and Monaco's workers (at least the editor's) came from here.
  expect(assets.filter((url) => url.includes('-worker-')).length).toBeGreaterThan(0);
});

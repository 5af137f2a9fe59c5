import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { formatUsd } from '../src/ui/format.ts';
import { createFakeGateway, modelInfo } from './support/fake-gateway.ts';
import { announcements, renderSignedIn, VALID_KEY } from './support/render.tsx';

function withBaseJob() {
  const gateway = createFakeGateway();
  const job = gateway.addJob({
    prompt: "a fox's den, in 'quotes'",
    model: 'Z_IMAGE_BASE',
    imageSize: 'PORTRAIT_9_16',
    numInferenceSteps: 40,
    guidanceScale: 6.5,
    numImages: 2,
    outputFormat: 'JPEG',
    acceleration: 'FAST',
    enableSafetyChecker: false,
    requestId: 'z-image-base_abc',
  });
  gateway.updateJob(job.id, gateway.completed(job, 12_000), { silently: true });
  window.history.replaceState(null, '', `/?job=${job.id}`);
  return { gateway, job };
}

const dialog = async () => within(await screen.findByRole('dialog', { name: 'Job details' }));

describe('job detail', () => {
  it('opens from a link with every parameter, timings, cost and downloads', async () => {
    const { gateway, job } = withBaseJob();
    renderSignedIn({ gateway });
    const detail = await dialog();

    expect(await detail.findByText("a fox's den, in 'quotes'")).toBeTruthy();
    const facts = Object.fromEntries(
      detail
        .getAllByRole('term')
        .map((term) => [term.textContent, term.nextElementSibling?.textContent]),
    );
    expect(facts).toMatchObject({
      Model: 'Base',
      Size: 'Portrait 9:16',
      Steps: '40',
      Guidance: '6.5',
      Images: '2',
      Format: 'JPEG',
      Acceleration: 'Fast',
      'Safety checker': 'Off',
      Ran: '12 s',
      Cost: formatUsd(2 * modelInfo('Z_IMAGE_BASE').priceUsdPerImage),
      'Job ID': job.id,
      'Pixazo request': 'z-image-base_abc',
    });
    const downloads = detail.getAllByRole('link', { name: /Download/ });
    expect(downloads).toHaveLength(2);
    expect(downloads[0]?.getAttribute('href')).toBe(`/images/${job.id}/0.png`);
    expect(downloads[0]?.hasAttribute('download')).toBe(true);
  });

  it('fills the generate form with "use these settings"', async () => {
    const { gateway } = withBaseJob();
    renderSignedIn({ gateway });
    const detail = await dialog();
    await userEvent.click(await detail.findByRole('button', { name: 'Use these settings' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByRole('textbox', { name: 'Prompt' })).toHaveProperty(
      'value',
      "a fox's den, in 'quotes'",
    );
    expect(screen.getByRole('radio', { name: /Z-Image Base/ })).toHaveProperty('checked', true);
    expect(screen.getByRole('spinbutton', { name: 'Steps' })).toHaveProperty('value', '40');
    expect(screen.getByRole('spinbutton', { name: 'Guidance' })).toHaveProperty('value', '6.5');
    expect(screen.getByRole('radio', { name: 'Fast' })).toHaveProperty('checked', true);
    expect(screen.getByRole('radio', { name: 'JPEG' })).toHaveProperty('checked', true);
    expect(screen.getByRole('checkbox', { name: /Safety checker/ })).toHaveProperty(
      'checked',
      false,
    );
    expect(new URL(window.location.href).searchParams.has('job')).toBe(false);
  });

  it('copies cURL, GraphQL and @zimage/client snippets that never contain the key', async () => {
    const { gateway } = withBaseJob();
    renderSignedIn({ gateway });
    const detail = await dialog();
    // user-event puts a clipboard stub in place of the browser's.
    const user = userEvent.setup();
    const copied: string[] = [];
    const copy = async (kind: string) => {
      await user.click(detail.getByRole('button', { name: `Copy ${kind}` }));
      copied.push(await navigator.clipboard.readText());
      return copied.at(-1) ?? '';
    };

    await detail.findByRole('button', { name: 'Copy cURL' });
    const curl = await copy('cURL');
    expect(curl).toContain(`curl ${window.location.origin}/graphql`);
    expect(curl).toContain('authorization: Bearer $ZIMAGE_API_KEY');
    const body = JSON.parse(curl.split('\n')[4] ?? '');
    expect(body.variables.input).toMatchObject({
      model: 'Z_IMAGE_BASE',
      prompt: "a fox's den, in 'quotes'",
      guidanceScale: 6.5,
    });
    await waitFor(() => expect(announcements()).toContain('cURL snippet copied.'));

    await user.click(detail.getByRole('radio', { name: 'GraphQL' }));
    expect(await copy('GraphQL')).toContain('mutation GenerateImage($input: GenerateImageInput!)');

    // The gateway's own client, with a gateway key: no Pixazo key or @zimage/core anywhere.
    expect(detail.queryByRole('radio', { name: '@zimage/core' })).toBeNull();
    await user.click(detail.getByRole('radio', { name: '@zimage/client' }));
    const client = await copy('@zimage/client');
    expect(client).toContain("import { createZimageClient } from '@zimage/client';");
    expect(client).toContain(`url: "${window.location.origin}"`);
    expect(client).toContain('apiKey: process.env.ZIMAGE_API_KEY');
    expect(client).toContain('model: "Z_IMAGE_BASE"');
    expect(client).toContain('imageSize: "PORTRAIT_9_16"');
    expect(client).toContain('acceleration: "FAST"');
    expect(client).toContain(`prompt: "a fox's den, in 'quotes'"`);
    expect(client).not.toMatch(/PIXAZO|@zimage\/core/);

    for (const text of copied) expect(text).not.toContain(VALID_KEY);
  });

  it('closes with its button and drops the job from the URL', async () => {
    const { gateway } = withBaseJob();
    renderSignedIn({ gateway });
    const detail = await dialog();
    await userEvent.click(detail.getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(window.location.search).toBe('');
  });

  it('says so for a job that does not exist', async () => {
    window.history.replaceState(null, '', '/?job=job_missing');
    renderSignedIn();
    const detail = await dialog();
    expect(await detail.findByText(/does not exist/)).toBeTruthy();
  });

  it('says the images expired instead of drawing images whose URLs are gone', async () => {
    const { gateway, job } = withBaseJob();
    gateway.updateJob(job.id, { imagesExpiredAt: new Date().toISOString() }, { silently: true });
    renderSignedIn({ gateway });
    const detail = await dialog();

    expect(await detail.findByText('Images expired')).toBeTruthy();
    expect(detail.getByText(/deleted by the gateway's retention policy/)).toBeTruthy();
    expect(detail.queryAllByRole('img')).toEqual([]);
    expect(detail.queryAllByRole('link', { name: /Download/ })).toEqual([]);
  });
});

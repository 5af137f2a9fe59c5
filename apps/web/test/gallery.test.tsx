import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { createFakeGateway, modelInfo } from './support/fake-gateway.ts';
import { renderSignedIn } from './support/render.tsx';

const base = modelInfo('Z_IMAGE_BASE');

/** Two completed jobs: a Turbo one of 2 images (newest) and a Base one of 1. */
function gatewayWithImages() {
  const gateway = createFakeGateway();
  const older = gateway.addJob({
    prompt: 'a fox in snow',
    model: 'Z_IMAGE_BASE',
    numInferenceSteps: base.defaultSteps,
    guidanceScale: base.defaultGuidanceScale,
    acceleration: base.defaultAcceleration,
  });
  gateway.updateJob(older.id, gateway.completed(older), { silently: true });
  const newer = gateway.addJob({ prompt: 'a lighthouse at dawn', numImages: 2 });
  gateway.updateJob(newer.id, gateway.completed(newer), { silently: true });
  gateway.addJob({ prompt: 'still queued', queuePosition: 1 });
  return { gateway, older, newer };
}

async function openGrid() {
  const setup = gatewayWithImages();
  const user = userEvent.setup();
  const view = renderSignedIn({ gateway: setup.gateway });
  await screen.findByRole('list', { name: 'Jobs, newest first' });
  await user.click(screen.getByRole('button', { name: 'Grid' }));
  const grid = await screen.findByRole('list', { name: 'Images, newest first' });
  return { ...setup, ...view, user, grid: within(grid) };
}

const dialog = () => within(screen.getByRole('dialog'));

describe('gallery', () => {
  it('shows the history as a grid of every image, and remembers that view', async () => {
    const { grid, unmount } = await openGrid();
    expect(grid.getAllByRole('button').map((button) => button.getAttribute('aria-label'))).toEqual([
      'View “a lighthouse at dawn”, image 1 of 2',
      'View “a lighthouse at dawn”, image 2 of 2',
      'View “a fox in snow”, image 1 of 1',
    ]);
    expect(screen.getByRole('button', { name: 'Grid' }).getAttribute('aria-pressed')).toBe('true');
    unmount();

    renderSignedIn({ gateway: gatewayWithImages().gateway });
    expect(await screen.findByRole('list', { name: 'Images, newest first' })).toBeTruthy();
  });

  it('leaves out the images retention deleted', async () => {
    const { gateway, older } = gatewayWithImages();
    gateway.updateJob(
      older.id,
      { ...gateway.completed(older), imagesExpiredAt: new Date().toISOString() },
      { silently: true },
    );
    const user = userEvent.setup();
    renderSignedIn({ gateway });
    await screen.findByRole('list', { name: 'Jobs, newest first' });
    await user.click(screen.getByRole('button', { name: 'Grid' }));
    const grid = within(await screen.findByRole('list', { name: 'Images, newest first' }));
    expect(grid.getAllByRole('button').map((button) => button.getAttribute('aria-label'))).toEqual([
      'View “a lighthouse at dawn”, image 1 of 2',
      'View “a lighthouse at dawn”, image 2 of 2',
    ]);
  });

  it('opens an image full size, steps with the arrow keys, and names its download', async () => {
    const { grid, user, newer, older } = await openGrid();
    await user.click(grid.getByRole('button', { name: /a lighthouse at dawn”, image 2/ }));
    const viewer = await screen.findByRole('dialog', { name: /Image 2 of 3/ });
    expect(within(viewer).getByRole('img').getAttribute('src')).toBe(`/images/${newer.id}/1.png`);
    expect(within(viewer).getByRole('link', { name: 'Download' }).getAttribute('download')).toBe(
      `a-lighthouse-at-dawn_${newer.id}_2.png`,
    );

    await user.keyboard('{ArrowRight}');
    expect(await screen.findByRole('dialog', { name: /Image 3 of 3/ })).toBeTruthy();
    expect(dialog().getByRole('img').getAttribute('src')).toBe(`/images/${older.id}/0.png`);
    expect(dialog().getByText(base.name.replace('Z-Image ', ''))).toBeTruthy();
    // The last one: ArrowRight stays.
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('dialog', { name: /Image 3 of 3/ })).toBeTruthy();
    await user.keyboard('{ArrowLeft}{ArrowLeft}');
    expect(await screen.findByRole('dialog', { name: /Image 1 of 3/ })).toBeTruthy();
  });

  it("copies an image's prompt, and puts its settings in the form", async () => {
    const { grid, user } = await openGrid();
    await user.click(grid.getByRole('button', { name: /a fox in snow”, image 1/ }));
    await screen.findByRole('dialog', { name: /Image 3 of 3/ });

    await user.click(dialog().getByRole('button', { name: 'Copy prompt' }));
    expect(await navigator.clipboard.readText()).toBe('a fox in snow');

    await user.click(dialog().getByRole('button', { name: 'Use settings' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByRole('textbox', { name: 'Prompt' })).toHaveProperty(
      'value',
      'a fox in snow',
    );
    expect(screen.getByRole('radio', { name: new RegExp(base.name) })).toHaveProperty(
      'checked',
      true,
    );
    expect(screen.getByRole('spinbutton', { name: 'Guidance' })).toHaveProperty(
      'value',
      String(base.defaultGuidanceScale),
    );
  });

  it('compares 2 to 4 picked images side by side, marking the settings that differ', async () => {
    const { grid, user } = await openGrid();
    const compare = () => screen.getByRole('button', { name: /^Compare/ });
    expect(compare()).toHaveProperty('disabled', true);

    await user.click(grid.getByRole('checkbox', { name: /a lighthouse at dawn”, image 1/ }));
    expect(compare()).toHaveProperty('disabled', true);
    await user.click(grid.getByRole('checkbox', { name: /a fox in snow”, image 1/ }));
    await user.click(compare());

    const view = within(await screen.findByRole('dialog', { name: 'Compare 2 images' }));
    const columns = view.getAllByRole('listitem');
    expect(columns).toHaveLength(2);
    expect(columns.map((column) => within(column).getByRole('img').getAttribute('src'))).toEqual([
      expect.stringMatching(/\/0\.png$/),
      expect.stringMatching(/\/0\.png$/),
    ]);
    // Turbo against Base: the model and steps differ, the size does not.
    for (const column of columns) {
      const facts = within(column);
      expect(facts.getByText('Model').nextElementSibling?.textContent).toMatch(/\(differs\)$/);
      expect(facts.getByText('Size').nextElementSibling?.textContent).toBe('Square 1:1');
    }
    expect(view.getByText(/^Differs in: model/)).toBeTruthy();
  });

  it('allows at most 4 picks', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'many', numImages: modelInfo('Z_IMAGE_TURBO').maxImages });
    gateway.updateJob(job.id, gateway.completed(job), { silently: true });
    const extra = gateway.addJob({ prompt: 'one more' });
    gateway.updateJob(extra.id, gateway.completed(extra), { silently: true });
    const user = userEvent.setup();
    renderSignedIn({ gateway });
    await screen.findByRole('list', { name: 'Jobs, newest first' });
    await user.click(screen.getByRole('button', { name: 'Grid' }));
    const boxes = within(
      await screen.findByRole('list', { name: 'Images, newest first' }),
    ).getAllByRole('checkbox');
    expect(boxes.length).toBeGreaterThan(4);
    for (const box of boxes.slice(0, 4)) await user.click(box);
    expect(boxes[4]).toHaveProperty('disabled', true);
    expect(screen.getByText('4 of 4 picked to compare')).toBeTruthy();
  });
});

import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderSignedIn } from './support/render.tsx';

async function renderForm() {
  const view = renderSignedIn();
  await screen.findByRole('textbox', { name: 'Prompt' });
  return { ...view, user: userEvent.setup() };
}

describe('generate form', () => {
  it('shows the controls and limits of the selected model', async () => {
    const { user } = await renderForm();

    // Turbo: steps 1–50, no guidance, no acceleration choice.
    expect(screen.getByRole('spinbutton', { name: 'Steps' })).toHaveProperty('value', '8');
    expect(screen.getByText(/1–50, default 8/)).toBeTruthy();
    expect(screen.queryByRole('spinbutton', { name: 'Guidance' })).toBeNull();
    expect(screen.queryByRole('group', { name: 'Acceleration' })).toBeNull();

    await user.click(screen.getByRole('radio', { name: /Z-Image Base/ }));
    expect(screen.getByRole('spinbutton', { name: 'Steps' })).toHaveProperty('value', '28');
    expect(screen.getByText(/10–100, default 28/)).toBeTruthy();
    expect(screen.getByRole('spinbutton', { name: 'Guidance' })).toHaveProperty('value', '4');
    const acceleration = screen.getByRole('group', { name: 'Acceleration' });
    expect(within(acceleration).getByRole('radio', { name: 'Regular' })).toHaveProperty(
      'checked',
      true,
    );
    expect(within(acceleration).getAllByRole('radio')).toHaveLength(3);
  });

  it('shows the cost before submitting, and what is left of the budget', async () => {
    const { user } = await renderForm();
    await screen.findByText(/for 1 image/);
    expect(screen.getByText('$0.008')).toBeTruthy();

    await user.click(screen.getByRole('radio', { name: '3' }));
    expect(screen.getByText('$0.024')).toBeTruthy();
    await user.click(screen.getByRole('radio', { name: /Z-Image Base/ }));
    expect(screen.getByText('$0.03')).toBeTruthy();
    expect((await screen.findByText(/left today/)).textContent).toContain('$5.00 left today');
  });

  it('says which size is which with its aspect ratio', async () => {
    await renderForm();
    const sizes = screen.getByRole('group', { name: 'Size' });
    expect(within(sizes).getByRole('radio', { name: /16:9.*Landscape/ })).toBeTruthy();
    expect(within(sizes).getByRole('radio', { name: /1:1.*Square/ })).toHaveProperty(
      'checked',
      true,
    );
  });

  it('validates inline and focuses the first invalid field', async () => {
    const { user, gateway } = await renderForm();
    const steps = screen.getByRole('spinbutton', { name: 'Steps' });
    await user.clear(steps);
    await user.type(steps, '80');
    await user.click(screen.getByRole('button', { name: /Generate/ }));

    const prompt = screen.getByRole('textbox', { name: 'Prompt' });
    expect(prompt.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Describe the image you want.')).toBeTruthy();
    expect(screen.getByText('Use a whole number from 1 to 50.')).toBeTruthy();
    expect(document.activeElement).toBe(prompt);
    expect(gateway.operationsNamed('GenerateImage')).toHaveLength(0);
  });

  it('submits with Ctrl+Enter, sending only what the model accepts, once per submission', async () => {
    const { user, gateway } = await renderForm();
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'a red fox in snow');
    await user.click(screen.getByRole('radio', { name: /16:9/ }));
    await user.click(screen.getByRole('radio', { name: 'WebP' }));
    await user.click(screen.getByRole('checkbox', { name: /Safety checker/ }));
    await user.keyboard('{Control>}{Enter}{/Control}');

    await waitFor(() => expect(gateway.operationsNamed('GenerateImage')).toHaveLength(1));
    const input = gateway.operationsNamed('GenerateImage')[0]?.variables.input as Record<
      string,
      unknown
    >;
    expect(input).toMatchObject({
      model: 'Z_IMAGE_TURBO',
      prompt: 'a red fox in snow',
      imageSize: 'LANDSCAPE_16_9',
      numInferenceSteps: 8,
      numImages: 1,
      outputFormat: 'WEBP',
      enableSafetyChecker: false,
      acceleration: 'NONE',
    });
    expect(input).not.toHaveProperty('guidanceScale');
    expect(String(input.idempotencyKey)).toMatch(/^web-[0-9a-f]{32}$/);
  });

  it('sends guidance to Base', async () => {
    const { user, gateway } = await renderForm();
    await user.click(screen.getByRole('radio', { name: /Z-Image Base/ }));
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'an old map');
    const guidance = screen.getByRole('spinbutton', { name: 'Guidance' });
    fireEvent.change(guidance, { target: { value: '7.5' } });
    await user.click(screen.getByRole('radio', { name: 'Fast' }));
    await user.click(screen.getByRole('button', { name: /Generate/ }));

    await waitFor(() => expect(gateway.operationsNamed('GenerateImage')).toHaveLength(1));
    expect(gateway.operationsNamed('GenerateImage')[0]?.variables.input).toMatchObject({
      model: 'Z_IMAGE_BASE',
      numInferenceSteps: 28,
      guidanceScale: 7.5,
      acceleration: 'FAST',
    });
  });

  it("puts the gateway's field error next to the field it names", async () => {
    const { user, gateway } = await renderForm();
    gateway.failNext('GenerateImage', 'BAD_USER_INPUT', 'Prompt is too long', {
      field: 'input.prompt',
    });
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'x');
    await user.click(screen.getByRole('button', { name: /Generate/ }));

    expect(await screen.findByText('Prompt is too long.')).toBeTruthy();
    expect(screen.getByRole('textbox', { name: 'Prompt' }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'y');
    expect(screen.queryByText('Prompt is too long.')).toBeNull();
  });

  it('explains a refusal for budget reasons', async () => {
    const { user, gateway } = await renderForm();
    gateway.failNext('GenerateImage', 'BUDGET_EXCEEDED', 'Daily budget of $0.005 reached');
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'a boat');
    await user.click(screen.getByRole('button', { name: /Generate/ }));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/budget/i);
  });

  it('warns before submitting when the cost exceeds what is left today', async () => {
    const { gateway } = renderSignedIn();
    gateway.usage.spentTodayUsd = 4.995;
    expect(await screen.findByText(/costs more than what is left/)).toBeTruthy();
  });
});

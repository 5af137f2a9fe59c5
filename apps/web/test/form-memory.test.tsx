import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { createFakeGateway, modelInfo } from './support/fake-gateway.ts';
import { renderSignedIn, VALID_KEY } from './support/render.tsx';

const base = modelInfo('Z_IMAGE_BASE');
const turbo = modelInfo('Z_IMAGE_TURBO');
const prompt = () => screen.getByRole('textbox', { name: 'Prompt' }) as HTMLTextAreaElement;
const steps = () => screen.getByRole('spinbutton', { name: 'Steps' }) as HTMLInputElement;

async function renderForm(gateway = createFakeGateway()) {
  const view = renderSignedIn({ gateway });
  await screen.findByRole('textbox', { name: 'Prompt' });
  return { ...view, user: userEvent.setup() };
}

describe('what the form remembers', () => {
  it('keeps the draft across a reload, and never stores the API key a second time', async () => {
    const first = await renderForm();
    await first.user.click(screen.getByRole('radio', { name: new RegExp(base.name) }));
    await first.user.type(prompt(), 'a half-written idea');
    await first.user.clear(steps());
    await first.user.type(steps(), String(base.minSteps + 1));
    first.unmount();

    await renderForm();
    expect(prompt().value).toBe('a half-written idea');
    expect(steps().value).toBe(String(base.minSteps + 1));
    expect(screen.getByRole('radio', { name: new RegExp(base.name) })).toHaveProperty(
      'checked',
      true,
    );
    const stored = Object.keys(window.localStorage).filter((name) =>
      window.localStorage.getItem(name)?.includes(VALID_KEY),
    );
    expect(stored).toEqual(['zimage.apiKey']);
  });

  it('brings recent prompts back with ArrowUp in an empty prompt, newest first', async () => {
    const gateway = createFakeGateway();
    const { user } = await renderForm(gateway);
    for (const [index, text] of ['a fox in snow', 'a lighthouse'].entries()) {
      await user.clear(prompt());
      await user.type(prompt(), text);
      await user.click(screen.getByRole('button', { name: /Generate/ }));
      await waitFor(() => expect(gateway.operationsNamed('GenerateImage')).toHaveLength(index + 1));
    }
    await user.clear(prompt());

    await user.keyboard('{ArrowUp}');
    expect(prompt().value).toBe('a lighthouse');
    await user.keyboard('{ArrowUp}');
    expect(prompt().value).toBe('a fox in snow');
    await user.keyboard('{ArrowUp}');
    expect(prompt().value).toBe('a fox in snow');
    await user.keyboard('{ArrowDown}');
    expect(prompt().value).toBe('a lighthouse');
    await user.keyboard('{ArrowDown}');
    expect(prompt().value).toBe('');
  });

  it('saves, applies and deletes named presets of settings, kept across a reload', async () => {
    const first = await renderForm();
    const { user } = first;
    await user.click(screen.getByRole('radio', { name: new RegExp(base.name) }));
    await user.clear(steps());
    await user.type(steps(), String(base.maxSteps));
    await user.click(screen.getByText('Presets'));
    await user.type(screen.getByRole('textbox', { name: 'Preset name' }), 'base, max steps');
    await user.click(screen.getByRole('button', { name: 'Save preset' }));
    first.unmount();

    const second = await renderForm();
    await second.user.click(screen.getByRole('radio', { name: new RegExp(turbo.name) }));
    await second.user.type(prompt(), 'kept prompt');
    expect(steps().value).toBe(String(turbo.defaultSteps));
    await second.user.click(screen.getByText('Presets (1)'));
    expect(screen.getByRole('combobox', { name: 'Preset' })).toHaveProperty(
      'value',
      'base, max steps',
    );
    await second.user.click(screen.getByRole('button', { name: 'Apply' }));
    expect(screen.getByRole('radio', { name: new RegExp(base.name) })).toHaveProperty(
      'checked',
      true,
    );
    expect(steps().value).toBe(String(base.maxSteps));
    expect(prompt().value).toBe('kept prompt');

    await second.user.click(screen.getByRole('button', { name: 'Delete' }));
    expect(screen.queryByRole('combobox', { name: 'Preset' })).toBeNull();
    expect(screen.getByText('Presets')).toBeTruthy();
  });
});

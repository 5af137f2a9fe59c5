import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { formatUsd } from '../src/ui/format.ts';
import { enumLabel } from '../src/ui/labels.ts';
import { enumValuesOf, inputDefault, modelInfo } from './support/fake-gateway.ts';
import { renderSignedIn } from './support/render.tsx';

// The gateway's own models: every limit, default and price below is read from them.
const turbo = modelInfo('Z_IMAGE_TURBO');
const base = modelInfo('Z_IMAGE_BASE');
/** The values of a radio group's options, in order. */
const optionValues = (group: string) =>
  within(screen.getByRole('group', { name: group }))
    .getAllByRole('radio')
    .map((radio) => radio.getAttribute('value'));
const stepsHint = (model: typeof turbo) =>
  `${model.minSteps}–${model.maxSteps}, default ${model.defaultSteps}`;

async function renderForm() {
  const view = renderSignedIn();
  await screen.findByRole('textbox', { name: 'Prompt' });
  return { ...view, user: userEvent.setup() };
}

describe('generate form', () => {
  it('shows the controls and limits of the selected model', async () => {
    const { user } = await renderForm();
    // The gateway's default model is Turbo; Base is the one with guidance and accelerations.
    expect(inputDefault('model')).toBe(turbo.id);
    expect([turbo.supportsGuidanceScale, base.supportsGuidanceScale]).toEqual([false, true]);
    expect([turbo.accelerations.length, base.accelerations.length > 1]).toEqual([1, true]);

    expect(screen.getByRole('radio', { name: new RegExp(turbo.name) })).toHaveProperty(
      'checked',
      true,
    );
    expect(screen.getByRole('spinbutton', { name: 'Steps' })).toHaveProperty(
      'value',
      String(turbo.defaultSteps),
    );
    expect(screen.getByText(new RegExp(stepsHint(turbo)))).toBeTruthy();
    expect(screen.queryByRole('spinbutton', { name: 'Guidance' })).toBeNull();
    expect(screen.queryByRole('group', { name: 'Acceleration' })).toBeNull();

    await user.click(screen.getByRole('radio', { name: new RegExp(base.name) }));
    expect(screen.getByRole('spinbutton', { name: 'Steps' })).toHaveProperty(
      'value',
      String(base.defaultSteps),
    );
    expect(screen.getByText(new RegExp(stepsHint(base)))).toBeTruthy();
    expect(screen.getByRole('spinbutton', { name: 'Guidance' })).toHaveProperty(
      'value',
      String(base.defaultGuidanceScale),
    );
    const acceleration = screen.getByRole('group', { name: 'Acceleration' });
    expect(
      within(acceleration).getByRole('radio', { name: enumLabel(base.defaultAcceleration) }),
    ).toHaveProperty('checked', true);
    expect(within(acceleration).getAllByRole('radio')).toHaveLength(base.accelerations.length);
  });

  it('shows the cost before submitting, and what is left of the budget', async () => {
    const { user } = await renderForm();
    await screen.findByText(/for 1 image/);
    expect(screen.getByText(formatUsd(turbo.priceUsdPerImage))).toBeTruthy();

    await user.click(screen.getByRole('radio', { name: '3' }));
    expect(screen.getByText(formatUsd(3 * turbo.priceUsdPerImage))).toBeTruthy();
    await user.click(screen.getByRole('radio', { name: new RegExp(base.name) }));
    expect(screen.getByText(formatUsd(3 * base.priceUsdPerImage))).toBeTruthy();
    expect((await screen.findByText(/left today/)).textContent).toContain('$5.00 left today');
  });

  it("offers as many images per job as the model's maximum", async () => {
    await renderForm();
    expect(optionValues('Images')).toEqual(
      Array.from({ length: turbo.maxImages }, (_, index) => String(index + 1)),
    );
  });

  it("offers the schema's sizes, tallest to widest, and its format and safety defaults", async () => {
    await renderForm();
    expect(optionValues('Size')).toEqual([
      'PORTRAIT_9_16',
      'PORTRAIT_3_4',
      'SQUARE_1_1',
      'LANDSCAPE_4_3',
      'LANDSCAPE_16_9',
    ]);
    const sizes = screen.getByRole('group', { name: 'Size' });
    expect(within(sizes).getByRole('radio', { name: /16:9.*Landscape/ })).toBeTruthy();
    expect(within(sizes).getByRole('radio', { name: /1:1.*Square/ })).toHaveProperty(
      'checked',
      true,
    );
    const formats = screen.getByRole('group', { name: 'Format' });
    expect(optionValues('Format').sort()).toEqual(enumValuesOf('OutputFormat').sort());
    expect(within(formats).getByRole('radio', { checked: true }).getAttribute('value')).toBe(
      inputDefault('outputFormat'),
    );
    expect(screen.getByRole('checkbox', { name: /Safety checker/ })).toHaveProperty(
      'checked',
      inputDefault('enableSafetyChecker'),
    );
  });

  it('validates inline and focuses the first invalid field', async () => {
    const { user, gateway } = await renderForm();
    const steps = screen.getByRole('spinbutton', { name: 'Steps' });
    await user.clear(steps);
    await user.type(steps, String(turbo.maxSteps + 1));
    await user.click(screen.getByRole('button', { name: /Generate/ }));

    const prompt = screen.getByRole('textbox', { name: 'Prompt' });
    expect(prompt.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Describe the image you want.')).toBeTruthy();
    expect(
      screen.getByText(`Use a whole number from ${turbo.minSteps} to ${turbo.maxSteps}.`),
    ).toBeTruthy();
    expect(document.activeElement).toBe(prompt);
    expect(gateway.operationsNamed('GenerateImage')).toHaveLength(0);
  });

  it('submits with Ctrl+Enter, sending only what the model accepts, once per submission', async () => {
    const { user, gateway } = await renderForm();
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'a red fox in snow');
    await user.click(screen.getByRole('radio', { name: /16:9/ }));
    await user.click(screen.getByRole('radio', { name: 'WebP' }));
    await user.click(screen.getByRole('radio', { name: '2' }));
    await user.click(screen.getByRole('checkbox', { name: /Safety checker/ }));
    await user.keyboard('{Control>}{Enter}{/Control}');

    await waitFor(() => expect(gateway.operationsNamed('GenerateImage')).toHaveLength(1));
    const input = gateway.operationsNamed('GenerateImage')[0]?.variables.input as Record<
      string,
      unknown
    >;
    expect(input).toMatchObject({
      model: turbo.id,
      prompt: 'a red fox in snow',
      imageSize: 'LANDSCAPE_16_9',
      numInferenceSteps: turbo.defaultSteps,
      numImages: 2,
      outputFormat: 'WEBP',
      enableSafetyChecker: false,
      acceleration: turbo.defaultAcceleration,
    });
    expect(input).not.toHaveProperty('guidanceScale');
    expect(String(input.idempotencyKey)).toMatch(/^web-[0-9a-f]{32}$/);
  });

  it('sends guidance to Base', async () => {
    const { user, gateway } = await renderForm();
    await user.click(screen.getByRole('radio', { name: new RegExp(base.name) }));
    await user.type(screen.getByRole('textbox', { name: 'Prompt' }), 'an old map');
    const guidance = screen.getByRole('spinbutton', { name: 'Guidance' });
    fireEvent.change(guidance, { target: { value: '7.5' } });
    await user.click(screen.getByRole('radio', { name: 'Fast' }));
    await user.click(screen.getByRole('button', { name: /Generate/ }));

    await waitFor(() => expect(gateway.operationsNamed('GenerateImage')).toHaveLength(1));
    expect(gateway.operationsNamed('GenerateImage')[0]?.variables.input).toMatchObject({
      model: base.id,
      numInferenceSteps: base.defaultSteps,
      guidanceScale: 7.5,
      acceleration: 'FAST',
    });
  });

  it("counts the prompt in characters and refuses one past the gateway's limit", async () => {
    const { user, gateway } = await renderForm();
    const max = turbo.maxPromptLength;
    const prompt = screen.getByRole('textbox', { name: 'Prompt' });
    // 🦊 is one character (code point) but two UTF-16 units, as in most emoji.
    await user.click(prompt);
    await user.paste('🦊'.repeat(max));
    expect(screen.getByText(`${max} / ${max}`)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: /Generate/ }));
    await waitFor(() => expect(gateway.operationsNamed('GenerateImage')).toHaveLength(1));

    await user.type(prompt, '!');
    expect(screen.getByText(`${max + 1} / ${max}`)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: /Generate/ }));
    expect(
      screen.getByText(`The prompt may have at most ${max} characters; this one has ${max + 1}.`),
    ).toBeTruthy();
    expect(prompt.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(prompt);
    expect(gateway.operationsNamed('GenerateImage')).toHaveLength(1);
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

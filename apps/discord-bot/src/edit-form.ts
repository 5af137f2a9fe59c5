/**
 * The Edit & re-roll form: its fields (the presenter draws them, the adapter reads them back
 * by these ids) and what its answers mean. Discord sends text inputs back as text, so the
 * numbers are parsed here; their ranges are checked with every other option, against the
 * gateway's models, when the request is built.
 */
import type { ImageSize, Model, ModelInfo } from '@zimage/client';
import type { Checked } from './problems.ts';
import type { RequestEdits } from './rerun.ts';

export const EDIT_FORM_FIELDS = {
  prompt: 'prompt',
  model: 'model',
  size: 'size',
  steps: 'steps',
  images: 'images',
} as const;

/** The form's answers as Discord returns them; a select left alone returns its default. */
export interface EditFormAnswers {
  prompt: string;
  model: string | undefined;
  size: string | undefined;
  steps: string;
  images: string;
}

function wholeNumber(field: string, text: string): Checked<number | undefined> {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  if (!/^\d{1,4}$/.test(trimmed)) {
    return {
      ok: false,
      problem: { kind: 'invalid-option', option: field, message: 'Enter a whole number.' },
    };
  }
  return { ok: true, value: Number(trimmed) };
}

export function parseEditForm(
  answers: EditFormAnswers,
  models: readonly ModelInfo[],
  sizes: readonly ImageSize[],
): Checked<RequestEdits> {
  const model = models.find((m) => m.id === answers.model);
  if (!model) {
    return {
      ok: false,
      problem: { kind: 'invalid-option', option: 'model', message: 'Pick one of the models.' },
    };
  }
  const size = sizes.find((s) => s === answers.size);
  if (!size) {
    return {
      ok: false,
      problem: { kind: 'invalid-option', option: 'size', message: 'Pick one of the sizes.' },
    };
  }
  const steps = wholeNumber(EDIT_FORM_FIELDS.steps, answers.steps);
  if (!steps.ok) return steps;
  const images = wholeNumber(EDIT_FORM_FIELDS.images, answers.images);
  if (!images.ok) return images;
  return {
    ok: true,
    value: {
      prompt: answers.prompt,
      model: model.id as Model,
      size,
      steps: steps.value,
      images: images.value,
    },
  };
}

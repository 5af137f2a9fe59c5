import { describe, expect, it } from 'vitest';
import { parseEditForm } from '../src/edit-form.ts';
import { IMAGE_SIZES } from '../src/presenter.ts';
import { MODELS } from './helpers/fixtures.ts';

const answers = {
  prompt: 'a blue fox',
  model: 'Z_IMAGE_BASE',
  size: 'PORTRAIT_3_4',
  steps: ' 30 ',
  images: '',
};

describe('parseEditForm', () => {
  it('reads the answers; an emptied number keeps the earlier value (undefined)', () => {
    expect(parseEditForm(answers, MODELS, IMAGE_SIZES)).toEqual({
      ok: true,
      value: {
        prompt: 'a blue fox',
        model: 'Z_IMAGE_BASE',
        size: 'PORTRAIT_3_4',
        steps: 30,
        images: undefined,
      },
    });
  });

  it.each([
    ['steps', { steps: 'thirty' }],
    ['images', { images: '2.5' }],
    ['model', { model: 'Z_IMAGE_HUGE' }],
    ['size', { size: undefined }],
  ])('names the field it refuses: %s', (option, change) => {
    expect(parseEditForm({ ...answers, ...change }, MODELS, IMAGE_SIZES)).toMatchObject({
      ok: false,
      problem: { kind: 'invalid-option', option },
    });
  });
});

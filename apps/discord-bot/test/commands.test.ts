import { describe, expect, it } from 'vitest';
import { commandDefinitions } from '../src/commands.ts';
import { MODELS } from './helpers/fixtures.ts';

describe('commandDefinitions', () => {
  const [imagine, usage, job] = commandDefinitions(MODELS);

  it('defines /imagine with every option, prompt first and required', () => {
    expect(imagine?.name).toBe('imagine');
    expect(imagine?.options?.map((o) => [o.name, o.required ?? false])).toEqual([
      ['prompt', true],
      ['model', false],
      ['size', false],
      ['steps', false],
      ['images', false],
      ['format', false],
      ['guidance', false],
      ['safety', false],
    ]);
  });

  it('offers the contract’s enum values as choices', () => {
    const choices = (name: string) =>
      (
        imagine?.options?.find((o) => o.name === name) as { choices?: { value: string }[] }
      )?.choices?.map((c) => c.value);
    expect(choices('model')).toEqual(['Z_IMAGE_TURBO', 'Z_IMAGE_BASE']);
    expect(choices('size')).toEqual([
      'SQUARE_1_1',
      'PORTRAIT_3_4',
      'LANDSCAPE_4_3',
      'PORTRAIT_9_16',
      'LANDSCAPE_16_9',
    ]);
    expect(choices('format')).toEqual(['PNG', 'JPEG', 'WEBP']);
  });

  it('defines /usage and /job id:', () => {
    expect(usage?.name).toBe('usage');
    expect(job?.name).toBe('job');
    expect(job?.options?.map((o) => o.name)).toEqual(['id']);
  });
});

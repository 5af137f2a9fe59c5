import { readFileSync } from 'node:fs';
import { buildSchema, isEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { commandDefinitions } from '../src/commands.ts';
import { MODELS } from './helpers/fixtures.ts';

/** The gateway's printed schema: the contract the bot's choices must match. */
const schema = buildSchema(
  readFileSync(new URL('../../../packages/gateway/schema.graphql', import.meta.url), 'utf8'),
);

function enumValues(name: string): string[] {
  const type = schema.getType(name);
  if (!isEnumType(type)) throw new Error(`schema.graphql has no enum ${name}`);
  return type
    .getValues()
    .map((value) => value.name)
    .sort();
}

describe('commandDefinitions', () => {
  const [imagine, usage, job, history, settings] = commandDefinitions(MODELS);

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
      ['acceleration', false],
      ['safety', false],
    ]);
  });

  it('offers the contract’s enum values as choices', () => {
    const choices = (name: string) =>
      (
        imagine?.options?.find((o) => o.name === name) as { choices?: { value: string }[] }
      )?.choices?.map((c) => c.value);
    // The order of the choices is the bot's; the values are the printed schema's.
    expect(choices('model')?.sort()).toEqual(enumValues('Model'));
    expect(choices('size')?.sort()).toEqual(enumValues('ImageSize'));
    expect(choices('format')?.sort()).toEqual(enumValues('OutputFormat'));
    for (const value of choices('acceleration') ?? []) {
      expect(enumValues('Acceleration')).toContain(value);
    }
  });

  it('defines /usage, /job id: (autocompleted), /history and /settings', () => {
    expect(usage?.name).toBe('usage');
    expect(job?.name).toBe('job');
    expect(job?.options?.map((o) => [o.name, 'autocomplete' in o && o.autocomplete])).toEqual([
      ['id', true],
    ]);
    expect(history?.name).toBe('history');
    expect(history?.options ?? []).toEqual([]);
    expect(settings?.name).toBe('settings');
    expect(settings?.options?.map((o) => o.name)).toEqual(['model', 'size', 'format', 'reset']);
  });
});

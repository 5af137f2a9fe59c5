import { describe, expect, it } from 'vitest';
import { formChoices, promptLength } from '../src/features/generate/form-values.ts';
import { enumValuesOf, inputDefault, MODELS_ANSWER } from './support/fake-gateway.ts';

describe('form values', () => {
  it("reads the sizes, formats and input defaults from the schema's introspection", () => {
    const choices = formChoices(MODELS_ANSWER);
    expect([...choices.imageSizes].sort()).toEqual(enumValuesOf('ImageSize').sort());
    expect([...choices.outputFormats].sort()).toEqual(enumValuesOf('OutputFormat').sort());
    // graphql-js's reading of the printed defaults, against the form's own.
    expect(choices.defaults).toEqual({
      model: inputDefault('model'),
      numImages: inputDefault('numImages'),
      outputFormat: inputDefault('outputFormat'),
      enableSafetyChecker: inputDefault('enableSafetyChecker'),
    });
  });

  it('counts a prompt as the gateway does: code points of the trimmed text', () => {
    expect(promptLength('  a fox  ')).toBe(5);
    expect(promptLength('🦊🦊')).toBe(2);
    expect(promptLength('e\u0301')).toBe(2);
  });
});

/**
 * What the generate form keeps across reloads, in localStorage (never the API key): the draft
 * (every value, the prompt included), the recent prompts, and named presets of settings. What is
 * read back is checked for shape; whether its values suit a model is the form's validation, as
 * for anything typed.
 */
import { readStored, writeStored } from '../../ui/local-store.ts';
import type { GenerateValues } from './form-values.ts';

/** Presets hold the settings, not the prompt. */
export type PresetSettings = Omit<GenerateValues, 'prompt'>;
export interface Preset {
  name: string;
  settings: PresetSettings;
}

export const MAX_RECENT_PROMPTS = 20;
export const MAX_PRESETS = 30;
export const MAX_PRESET_NAME = 40;

const STRINGS = ['model', 'prompt', 'imageSize', 'outputFormat', 'acceleration'] as const;
/** Kept as null in JSON while the field is empty (NaN). */
const NUMBERS = ['numInferenceSteps', 'guidanceScale', 'numImages'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkValues(value: unknown, withPrompt: boolean): GenerateValues | undefined {
  if (!isRecord(value)) return undefined;
  const record = withPrompt ? value : { ...value, prompt: '' };
  for (const field of STRINGS) if (typeof record[field] !== 'string') return undefined;
  for (const field of NUMBERS) {
    if (record[field] !== null && typeof record[field] !== 'number') return undefined;
  }
  if (typeof record.enableSafetyChecker !== 'boolean') return undefined;
  const values = { ...record } as unknown as GenerateValues;
  for (const field of NUMBERS) values[field] = (record[field] as number | null) ?? Number.NaN;
  return values;
}

export const readDraft = () => readStored('draft', (value) => checkValues(value, true));

export const writeDraft = (values: GenerateValues | null) =>
  writeStored('draft', values ?? undefined);

export const readRecentPrompts = (): string[] =>
  readStored('recentPrompts', (value) =>
    Array.isArray(value)
      ? value.filter((item): item is string => typeof item === 'string')
      : undefined,
  ) ?? [];

/** Puts `prompt` first, once, keeping the newest MAX_RECENT_PROMPTS. */
export function rememberPrompt(prompt: string): string[] {
  const text = prompt.trim();
  const recent = [text, ...readRecentPrompts().filter((item) => item !== text)].slice(
    0,
    MAX_RECENT_PROMPTS,
  );
  writeStored('recentPrompts', recent);
  return recent;
}

export const readPresets = (): Preset[] =>
  readStored('presets', (value) =>
    Array.isArray(value)
      ? value.flatMap((item) => {
          if (!isRecord(item) || typeof item.name !== 'string') return [];
          const values = checkValues(item.settings, false);
          if (!values) return [];
          const { prompt: _, ...settings } = values;
          return [{ name: item.name, settings }];
        })
      : undefined,
  ) ?? [];

/** Saves (or replaces, by name) a preset; names are trimmed and bounded. */
export function savePreset(name: string, values: GenerateValues): Preset[] {
  const { prompt: _, ...settings } = values;
  const trimmed = name.trim().slice(0, MAX_PRESET_NAME);
  const presets = [
    ...readPresets().filter((preset) => preset.name !== trimmed),
    { name: trimmed, settings },
  ].slice(-MAX_PRESETS);
  writeStored('presets', presets);
  return presets;
}

export function deletePreset(name: string): Preset[] {
  const presets = readPresets().filter((preset) => preset.name !== name);
  writeStored('presets', presets.length > 0 ? presets : undefined);
  return presets;
}

/**
 * Named presets of the form's settings (everything but the prompt), kept in localStorage:
 * save the current settings under a name, apply one, delete one.
 */
import { type FormEvent, useId, useState } from 'react';
import { useAnnounce } from '../../ui/announcer.tsx';
import {
  deletePreset,
  MAX_PRESET_NAME,
  type Preset,
  readPresets,
  savePreset,
} from './form-storage.ts';
import type { GenerateValues } from './form-values.ts';

export function Presets({
  values,
  onApply,
}: {
  values: GenerateValues;
  onApply(values: GenerateValues): void;
}) {
  const id = useId();
  const announce = useAnnounce();
  const [presets, setPresets] = useState<Preset[]>(readPresets);
  const [chosen, setChosen] = useState('');
  const [name, setName] = useState('');
  const selected = presets.find((preset) => preset.name === chosen) ?? presets[0];

  const save = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    setPresets(savePreset(trimmed, values));
    setChosen(trimmed.slice(0, MAX_PRESET_NAME));
    setName('');
    announce(`Preset “${trimmed}” saved.`);
  };

  return (
    <details className="presets">
      <summary>Presets{presets.length > 0 ? ` (${presets.length})` : ''}</summary>
      <div className="presets-body">
        {presets.length > 0 && (
          <div className="preset-row">
            <label className="visually-hidden" htmlFor={`${id}-preset`}>
              Preset
            </label>
            <select
              id={`${id}-preset`}
              value={selected?.name ?? ''}
              onChange={(event) => setChosen(event.target.value)}
            >
              {presets.map((preset) => (
                <option key={preset.name} value={preset.name}>
                  {preset.name}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="button small"
              onClick={() => {
                if (!selected) return;
                onApply({ ...selected.settings, prompt: values.prompt });
                announce(`Preset “${selected.name}” applied.`);
              }}
            >
              Apply
            </button>
            <button
              type="button"
              className="button ghost small"
              onClick={() => {
                if (!selected) return;
                setPresets(deletePreset(selected.name));
                setChosen('');
                announce(`Preset “${selected.name}” deleted.`);
              }}
            >
              Delete
            </button>
          </div>
        )}
        {/* A form of its own inside the generate form is not allowed: a row with its own submit. */}
        <div className="preset-row">
          <label className="visually-hidden" htmlFor={`${id}-name`}>
            Preset name
          </label>
          <input
            id={`${id}-name`}
            type="text"
            value={name}
            maxLength={MAX_PRESET_NAME}
            placeholder="Name these settings"
            onChange={(event) => setName(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.ctrlKey && !event.metaKey) save(event);
            }}
          />
          <button type="button" className="button small" onClick={save} disabled={!name.trim()}>
            Save preset
          </button>
        </div>
      </div>
    </details>
  );
}

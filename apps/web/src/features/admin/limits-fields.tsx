/** The fields of an API key's limits, shared by creating a key and editing its limits. */
import { useId } from 'react';
import type { Model } from '../../graphql/operations.ts';
import { useModels } from '../generate/use-models.ts';
import {
  LIMIT_FIELDS,
  type LimitField,
  type LimitsFormErrors,
  type LimitsFormValues,
} from './limits-form.ts';

export function LimitsFields({
  values,
  errors,
  onChange,
}: {
  values: LimitsFormValues;
  errors: LimitsFormErrors;
  onChange(values: LimitsFormValues): void;
}) {
  const { models } = useModels();
  const id = useId();
  const toggleModel = (model: Model, allowed: boolean) =>
    onChange({
      ...values,
      allowedModels: allowed
        ? [...values.allowedModels, model]
        : values.allowedModels.filter((other) => other !== model),
    });

  const field = (limit: LimitField) => {
    const inputId = `${id}-${limit.name}`;
    const error = errors[limit.name];
    return (
      <div className="field" key={limit.name}>
        <label htmlFor={inputId}>{limit.label}</label>
        <input
          id={inputId}
          name={limit.name}
          type="text"
          inputMode={limit.kind === 'usd' ? 'decimal' : 'numeric'}
          autoComplete="off"
          placeholder="No limit"
          value={values.numbers[limit.name]}
          onChange={(event) =>
            onChange({
              ...values,
              numbers: { ...values.numbers, [limit.name]: event.target.value },
            })
          }
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${inputId}-error` : undefined}
        />
        {error && (
          <p id={`${inputId}-error`} className="field-error">
            {error}
          </p>
        )}
      </div>
    );
  };

  return (
    <>
      <fieldset className="limits-group">
        <legend>Limits of the key</legend>
        <div className="field-row">
          {LIMIT_FIELDS.filter((limit) => limit.scope === 'key').map(field)}
        </div>
      </fieldset>
      <fieldset className="limits-group">
        <legend>Limits of each end user the key acts for</legend>
        <div className="field-row">
          {LIMIT_FIELDS.filter((limit) => limit.scope === 'end user').map(field)}
        </div>
      </fieldset>
      <fieldset className="limits-group" aria-describedby={`${id}-models-hint`}>
        <legend>Allowed models</legend>
        <div className="checkbox-row">
          {models.map((model) => (
            <label key={model.id} className="checkbox">
              <input
                type="checkbox"
                name="allowedModels"
                value={model.id}
                checked={values.allowedModels.includes(model.id)}
                onChange={(event) => toggleModel(model.id, event.target.checked)}
              />
              {model.name}
            </label>
          ))}
        </div>
        <p id={`${id}-models-hint`} className="hint">
          None checked: every model. A job for another model is refused before anything is charged.
        </p>
        {errors.allowedModels && <p className="field-error">{errors.allowedModels}</p>}
      </fieldset>
      <p className="hint">Empty fields mean no limit. Days and months are UTC.</p>
    </>
  );
}

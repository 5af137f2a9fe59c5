/**
 * A group of radio buttons drawn as a segmented control or as tiles. Native radios keep the
 * keyboard behaviour (Tab into the group, arrows between options) and the accessible names.
 */
import { type ReactNode, useId } from 'react';

export interface Choice<T extends string | number> {
  value: T;
  label: ReactNode;
  /** Read after the label, e.g. a price. */
  detail?: ReactNode;
}

export function ChoiceGroup<T extends string | number>({
  legend,
  name,
  choices,
  value,
  onChange,
  variant = 'segmented',
  error,
}: {
  legend: string;
  name: string;
  choices: readonly Choice<T>[];
  value: T;
  onChange(value: T): void;
  variant?: 'segmented' | 'tiles';
  error?: string | undefined;
}) {
  const errorId = useId();
  return (
    <fieldset
      className={`choice-group ${variant}`}
      aria-describedby={error ? errorId : undefined}
      aria-invalid={error ? true : undefined}
    >
      <legend>{legend}</legend>
      <div className="choices">
        {choices.map((choice) => (
          <label key={choice.value} className="choice">
            <input
              type="radio"
              name={name}
              value={choice.value}
              checked={choice.value === value}
              onChange={() => onChange(choice.value)}
            />
            <span className="choice-face">
              <span className="choice-label">{choice.label}</span>
              {choice.detail && <span className="choice-detail">{choice.detail}</span>}
            </span>
          </label>
        ))}
      </div>
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

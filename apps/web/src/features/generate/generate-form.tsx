import { type FormEvent, type KeyboardEvent, useId } from 'react';
import { ChoiceGroup } from '../../ui/choice-group.tsx';
import { formatUsd } from '../../ui/format.ts';
import { enumLabel, formatLabel } from '../../ui/labels.ts';
import { RangeField } from '../../ui/range-field.tsx';
import { guidanceRange, imageCounts, promptLength } from './form-values.ts';
import { Presets } from './presets.tsx';
import { SizePicker } from './size-picker.tsx';
import { useGenerateForm } from './use-generate-form.ts';

const isApple = () => /Mac|iPhone|iPad/.test(navigator.userAgent);

export function GenerateForm() {
  const form = useGenerateForm();
  const id = useId();
  const fieldId = (field: string) => `${id}-${field}`;

  if (!form.ready) {
    return (
      <div className="panel-body">
        <p
          className={form.loadError ? 'form-error' : 'muted'}
          role={form.loadError ? 'alert' : undefined}
        >
          {form.loadError ?? 'Loading models…'}
        </p>
      </div>
    );
  }

  const { model, choices, values, errors, setField, leaveField } = form;

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const result = await form.submit();
    if (!result.ok && result.invalidField) {
      // Radio groups are focused through their checked option.
      const target =
        document.getElementById(fieldId(result.invalidField)) ??
        document.querySelector<HTMLInputElement>(`input[name="${result.invalidField}"]:checked`);
      target?.focus();
    }
  };

  const submitOnShortcut = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && (event.metaKey || event.ctrlKey)) {
      event.preventDefault();
      void submit();
    }
  };

  const promptError = errors.prompt;
  const promptChars = promptLength(values.prompt);
  const guidance = guidanceRange(model);
  const stepsRange = `${model.minSteps}–${model.maxSteps}, default ${model.defaultSteps}`;

  return (
    <form className="generate-form" onSubmit={submit} onKeyDown={submitOnShortcut} noValidate>
      <ChoiceGroup
        legend="Model"
        name="model"
        value={values.model}
        onChange={form.selectModel}
        error={errors.model}
        choices={form.models.map((candidate) => ({
          value: candidate.id,
          label: candidate.name,
          detail: `${formatUsd(candidate.priceUsdPerImage)} / image`,
        }))}
      />

      <div className="field">
        <label htmlFor={fieldId('prompt')}>Prompt</label>
        <textarea
          id={fieldId('prompt')}
          ref={form.promptRef}
          rows={4}
          value={values.prompt}
          placeholder="A lighthouse on a basalt cliff at dawn, soft fog, 35 mm photo"
          onChange={(event) => setField('prompt', event.target.value)}
          onKeyDown={form.recallPrompt}
          onBlur={() => leaveField('prompt')}
          aria-invalid={promptError ? true : undefined}
          aria-describedby={
            promptError
              ? `${fieldId('prompt-error')} ${fieldId('prompt-count')}`
              : fieldId('prompt-count')
          }
        />
        <p
          id={fieldId('prompt-count')}
          className={`hint char-count${promptChars > model.maxPromptLength ? ' over' : ''}`}
        >
          {promptChars} / {model.maxPromptLength}
          <span className="visually-hidden"> characters</span>
          {form.hasRecentPrompts && (
            <span className="recall-hint"> · ↑ in an empty prompt recalls recent ones</span>
          )}
        </p>
        {promptError && (
          <p id={fieldId('prompt-error')} className="field-error">
            {promptError}
          </p>
        )}
      </div>

      <SizePicker
        sizes={choices.imageSizes}
        value={values.imageSize}
        onChange={(size) => setField('imageSize', size)}
        error={errors.imageSize}
      />

      <ChoiceGroup
        legend="Images"
        name="numImages"
        value={values.numImages}
        onChange={(count) => setField('numImages', count)}
        error={errors.numImages}
        choices={imageCounts(model).map((count) => ({ value: count, label: String(count) }))}
      />

      <div className="field-row">
        <RangeField
          id={fieldId('numInferenceSteps')}
          label="Steps"
          min={model.minSteps}
          max={model.maxSteps}
          value={values.numInferenceSteps}
          onChange={(steps) => setField('numInferenceSteps', steps)}
          onBlur={() => leaveField('numInferenceSteps')}
          hint={`${model.name}: ${stepsRange}. More steps, more detail, longer wait.`}
          error={errors.numInferenceSteps}
        />
        {guidance && (
          <RangeField
            id={fieldId('guidanceScale')}
            label="Guidance"
            min={guidance.min}
            max={guidance.max}
            step={0.5}
            value={values.guidanceScale}
            onChange={(scale) => setField('guidanceScale', scale)}
            onBlur={() => leaveField('guidanceScale')}
            hint={`${guidance.min}–${guidance.max}, default ${guidance.default}. Higher follows the prompt more literally.`}
            error={errors.guidanceScale}
          />
        )}
      </div>

      {model.accelerations.length > 1 && (
        <ChoiceGroup
          legend="Acceleration"
          name="acceleration"
          value={values.acceleration}
          onChange={(acceleration) => setField('acceleration', acceleration)}
          choices={model.accelerations.map((acceleration) => ({
            value: acceleration,
            label: enumLabel(acceleration),
          }))}
          error={errors.acceleration}
        />
      )}

      <ChoiceGroup
        legend="Format"
        name="outputFormat"
        value={values.outputFormat}
        onChange={(format) => setField('outputFormat', format)}
        error={errors.outputFormat}
        choices={choices.outputFormats.map((format) => ({
          value: format,
          label: formatLabel(format),
        }))}
      />

      <label className="checkbox">
        <input
          type="checkbox"
          checked={values.enableSafetyChecker}
          onChange={(event) => setField('enableSafetyChecker', event.target.checked)}
        />
        <span>
          Safety checker
          <span className="hint"> Filters unsafe images before they are returned.</span>
        </span>
      </label>

      <Presets values={values} onApply={form.setValues} />

      <div className="submit-bar">
        {/* Not a live region: the one announcer speaks, and the cost is the button's description. */}
        <p className="cost" id={fieldId('cost')}>
          <span className="cost-amount">{formatUsd(form.cost)}</span>
          <span className="muted">
            {' '}
            for {values.numImages} {values.numImages === 1 ? 'image' : 'images'}
            {form.remaining !== null && ` · ${formatUsd(form.remaining)} left today`}
          </span>
        </p>
        {form.overBudget && (
          <p className="form-warning">This job costs more than what is left of today's budget.</p>
        )}
        {form.atConcurrencyLimit && (
          <p className="form-warning">
            This key already runs as many jobs as it may at once; wait for one to finish.
          </p>
        )}
        {form.submitError && (
          <p className="form-error" role="alert">
            {form.submitError}
          </p>
        )}
        <button
          type="submit"
          className="button primary wide"
          disabled={form.submitting}
          aria-keyshortcuts={isApple() ? 'Meta+Enter' : 'Control+Enter'}
          aria-describedby={fieldId('cost')}
        >
          {form.submitting ? 'Submitting…' : 'Generate'}
          <span className="kbd" aria-hidden="true">
            {isApple() ? '⌘ ↵' : 'Ctrl ↵'}
          </span>
        </button>
      </div>
    </form>
  );
}

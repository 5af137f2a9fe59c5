/**
 * Everything the generate form does, without its markup: values (kept in the draft), per-model
 * limits, validation shown once a field was left or a submit attempted, the cost against
 * today's budget, and submission with the gateway's errors put next to the field they name.
 */
import { type KeyboardEvent, useState } from 'react';
import { describeError, errorCode, errorField } from '../../graphql/errors.ts';
import type { ModelInfo } from '../../graphql/operations.ts';
import { budgetLeft, useViewer } from '../usage/use-usage.ts';
import { useDraft } from './draft.tsx';
import {
  costOf,
  defaultValues,
  type FieldErrors,
  type FieldName,
  type GenerateValues,
  toInput,
  validate,
  withModel,
} from './form-values.ts';
import { useRecentPrompts } from './recent-prompts.ts';
import { useModels } from './use-models.ts';
import { useSubmitJob } from './use-submit-job.ts';

/** Order of the fields on screen: the first invalid one gets the focus. */
const FIELD_ORDER: readonly FieldName[] = [
  'model',
  'prompt',
  'imageSize',
  'numImages',
  'numInferenceSteps',
  'guidanceScale',
  'acceleration',
  'outputFormat',
  'enableSafetyChecker',
];

export type SubmitResult = { ok: true } | { ok: false; invalidField: FieldName | null };

export function useGenerateForm() {
  const { models, choices, error: modelsError } = useModels();
  const { viewer } = useViewer();
  const draft = useDraft();
  const { submit: submitJob, submitting } = useSubmitJob();
  const [attempted, setAttempted] = useState(false);
  const [left, setLeft] = useState<ReadonlySet<FieldName>>(new Set());
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [submitError, setSubmitError] = useState<string | null>(null);
  const recentPrompts = useRecentPrompts();

  const selected = draft.values?.model ?? choices?.defaults.model;
  const model: ModelInfo | undefined =
    models.find((candidate) => candidate.id === selected) ?? models[0];
  if (!model || !choices) {
    return {
      ready: false as const,
      loadError: modelsError ? describeError(modelsError) : null,
    };
  }

  const values = draft.values ?? defaultValues(model, choices);
  const clientErrors = validate(values, model);
  const errors: FieldErrors = { ...serverErrors };
  for (const field of FIELD_ORDER) {
    const message = clientErrors[field];
    if (message && (attempted || left.has(field))) errors[field] = message;
  }

  const cost = costOf(values, model);
  const usage = viewer?.usage ?? null;
  const remaining = usage ? budgetLeft(usage) : null;

  function setField<F extends FieldName>(field: F, value: GenerateValues[F]) {
    draft.setValues({ ...values, [field]: value });
    if (serverErrors[field]) setServerErrors(({ [field]: _, ...rest }) => rest);
  }

  function selectModel(id: ModelInfo['id']) {
    const next = models.find((candidate) => candidate.id === id);
    if (next && next.id !== values.model) draft.setValues(withModel(values, next));
  }

  const leaveField = (field: FieldName) =>
    setLeft((current) => (current.has(field) ? current : new Set(current).add(field)));

  async function submit(): Promise<SubmitResult> {
    if (!model || submitting) return { ok: false, invalidField: null };
    setAttempted(true);
    const invalidField = FIELD_ORDER.find((field) => clientErrors[field]);
    if (invalidField) return { ok: false, invalidField };

    setSubmitError(null);
    setServerErrors({});
    const outcome = await submitJob(toInput(values, model));
    if ('job' in outcome) {
      recentPrompts.remember(values.prompt);
      setAttempted(false);
      setLeft(new Set());
      return { ok: true };
    }
    const field = errorField(outcome.error) as FieldName | undefined;
    if (errorCode(outcome.error) === 'BAD_USER_INPUT' && field && FIELD_ORDER.includes(field)) {
      setServerErrors({ [field]: describeError(outcome.error) });
      return { ok: false, invalidField: field };
    }
    setSubmitError(describeError(outcome.error));
    return { ok: false, invalidField: null };
  }

  return {
    ready: true as const,
    models,
    choices,
    model,
    values,
    errors,
    cost,
    /** USD left today, or null without a budget. */
    remaining,
    overBudget: remaining !== null && cost > remaining + 1e-9,
    atConcurrencyLimit:
      usage?.maxConcurrentJobs != null && usage.jobsInFlight >= usage.maxConcurrentJobs,
    submitting,
    submitError,
    promptRef: draft.promptRef,
    setField,
    /** Replaces every value, e.g. with a preset's settings (the prompt is kept). */
    setValues: draft.setValues,
    /** Recent prompts on ArrowUp/ArrowDown in the prompt field. */
    recallPrompt: (event: KeyboardEvent<HTMLTextAreaElement>) =>
      recentPrompts.onKeyDown(event, values.prompt, (prompt) => setField('prompt', prompt)),
    hasRecentPrompts: recentPrompts.recent.length > 0,
    selectModel,
    leaveField,
    submit,
  };
}

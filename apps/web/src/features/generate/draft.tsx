/**
 * The generate form's values live above the form, so that "use these settings" in a job's
 * detail (or a card) can fill it from anywhere on the page. They are kept in localStorage as
 * they change, so the draft survives a reload.
 */
import {
  type ReactNode,
  type RefObject,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { Job } from '../../graphql/operations.ts';
import { createRequiredContext } from '../../ui/required-context.ts';
import { readDraft, writeDraft } from './form-storage.ts';
import { type GenerateValues, valuesFromJob } from './form-values.ts';

interface Draft {
  /** null until the user touches the form: the model's defaults apply. */
  values: GenerateValues | null;
  setValues(values: GenerateValues): void;
  /** Fills the form with a job's parameters and puts the cursor in its prompt. */
  reuseSettings(job: Job): void;
  promptRef: RefObject<HTMLTextAreaElement | null>;
}

const [DraftContext, useDraft] = createRequiredContext<Draft>('Draft');

export { useDraft };

export function DraftProvider({ children }: { children: ReactNode }) {
  const [values, setValues] = useState<GenerateValues | null>(() => readDraft() ?? null);
  useEffect(() => writeDraft(values), [values]);
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const reuseSettings = useCallback((job: Job) => {
    setValues(valuesFromJob(job));
    // After the dialog that asked for it has closed and the form has re-rendered.
    requestAnimationFrame(() => {
      promptRef.current?.focus();
      promptRef.current?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    });
  }, []);
  const value = useMemo(
    () => ({ values, setValues, reuseSettings, promptRef }),
    [values, reuseSettings],
  );
  return <DraftContext value={value}>{children}</DraftContext>;
}

/** What can be done with one image of a job: copy its prompt, reuse its settings, open its job. */
import { useCallback } from 'react';
import type { Job } from '../../graphql/operations.ts';
import { useAnnounce } from '../../ui/announcer.tsx';
import { shortPrompt } from '../../ui/labels.ts';
import { useDraft } from '../generate/draft.tsx';

export function useImageActions(close: () => void) {
  const announce = useAnnounce();
  const { reuseSettings } = useDraft();

  const copyPrompt = useCallback(
    async (job: Job) => {
      try {
        await navigator.clipboard.writeText(job.prompt);
        announce(`Prompt “${shortPrompt(job.prompt)}” copied.`);
      } catch {
        announce('Copying was refused by the browser; select the prompt and copy it instead.');
      }
    },
    [announce],
  );

  const applySettings = useCallback(
    (job: Job) => {
      close();
      reuseSettings(job);
      announce('The form has the settings of that image.');
    },
    [close, reuseSettings, announce],
  );

  return { copyPrompt, applySettings };
}

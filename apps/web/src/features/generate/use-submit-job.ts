import { useCallback } from 'react';
import { type CombinedError, useMutation } from 'urql';
import {
  type GenerateImageInput,
  GenerateImageMutation,
  type Job,
} from '../../graphql/operations.ts';
import { useAnnounce } from '../../ui/announcer.tsx';
import { shortPrompt } from '../../ui/labels.ts';
import { useLiveSession } from '../jobs/live-session.tsx';

/**
 * A fresh key per submission: if the answer is lost and the same submission is sent again
 * (urql retry, double-click race), the gateway returns the same job instead of paying twice.
 * getRandomValues, unlike randomUUID, also works on a plain-http LAN address.
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export type SubmitOutcome = { job: Job } | { error: CombinedError };

/** Submits a job and gives it a card in the live panel. */
export function useSubmitJob() {
  const [{ fetching }, execute] = useMutation(GenerateImageMutation);
  const { track } = useLiveSession();
  const announce = useAnnounce();

  const submit = useCallback(
    async (input: GenerateImageInput): Promise<SubmitOutcome> => {
      const result = await execute({ input: { ...input, idempotencyKey: newIdempotencyKey() } });
      const job = result.data?.generateImage;
      if (job) {
        track([job]);
        announce(`Submitted “${shortPrompt(job.prompt)}”.`);
        return { job };
      }
      // urql always sets one of data and error on a finished mutation.
      return { error: result.error as CombinedError };
    },
    [execute, track, announce],
  );

  return { submit, submitting: fetching };
}

import { useMemo } from 'react';
import { useQuery } from 'urql';
import { type ModelInfo, ModelsQuery } from '../../graphql/operations.ts';
import { formChoices } from './form-values.ts';

const NO_MODELS: readonly ModelInfo[] = [];

/** The gateway's models and, once they are loaded, the form's other choices and defaults. */
export function useModels() {
  const [{ data, error }] = useQuery({ query: ModelsQuery });
  const choices = useMemo(() => (data ? formChoices(data) : null), [data]);
  return { models: data?.models ?? NO_MODELS, choices, error };
}

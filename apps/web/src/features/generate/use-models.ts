import { useQuery } from 'urql';
import { type ModelInfo, ModelsQuery } from '../../graphql/operations.ts';

const NO_MODELS: readonly ModelInfo[] = [];

export function useModels() {
  const [{ data, error }] = useQuery({ query: ModelsQuery });
  return { models: data?.models ?? NO_MODELS, error };
}

/**
 * Global setup of the component tests: what the real gateway answers, computed once in Node
 * (the gateway does not load under jsdom) and handed to the fake gateway with `inject`. No test
 * keeps its own copy of the model table.
 */
import { modelsAnswer } from '@zimage/gateway';
import { print } from 'graphql';
import type { TestProject } from 'vitest/node';
import { type ModelInfo, type ModelsAnswer, ModelsQuery } from '../../src/graphql/operations.ts';

/** Each model's expected run time at its default settings, the fake's `Job.expectedDurationMs`. */
const DEFAULT_DURATIONS = '{ models { id expectedDurationMs } }';

export default async function provideGatewayAnswers(project: TestProject) {
  const answer = (await modelsAnswer(print(ModelsQuery))) as ModelsAnswer;
  const durations = (await modelsAnswer(DEFAULT_DURATIONS)) as {
    models: { id: ModelInfo['id']; expectedDurationMs: number }[];
  };
  project.provide('modelsAnswer', answer);
  project.provide(
    'defaultDurationMs',
    Object.fromEntries(durations.models.map((model) => [model.id, model.expectedDurationMs])),
  );
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The gateway's answer to the dashboard's own Models query. */
    modelsAnswer: ModelsAnswer;
    defaultDurationMs: Partial<Record<ModelInfo['id'], number>>;
  }
}

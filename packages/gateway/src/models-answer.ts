/**
 * The gateway's own answer to a query about `models`, executed on the real schema without a
 * server. The clients' test fixtures are built from it, so that none of them keeps a copy of
 * the model table or of the gateway's limits.
 */
import { execute, parse } from 'graphql';
import { DEFAULT_MAX_PROMPT_LENGTH } from './config.ts';
import type { GatewayContext } from './schema/builder.ts';
import { schema } from './schema/schema.ts';

export async function modelsAnswer(
  query: string,
  options: { maxPromptLength?: number } = {},
): Promise<Record<string, unknown>> {
  const maxPromptLength = options.maxPromptLength ?? DEFAULT_MAX_PROMPT_LENGTH;
  // `models` needs nobody's key and reads only the engine's prompt limit.
  const contextValue = { engine: { maxPromptLength } } as unknown as GatewayContext;
  const result = await execute({ schema, document: parse(query), contextValue });
  if (result.errors?.length) throw new AggregateError(result.errors, 'models query failed');
  return result.data as Record<string, unknown>;
}

/**
 * Admission of an operation, once, before any resolver runs, on every transport:
 * - without an API key only introspection is allowed;
 * - the end user the operation acts for (any root field's `endUserId` argument, or
 *   `input.endUserId`) is applied to the principal, which needs the act-as scope;
 * - the request is counted against the key's and the end user's requests-per-minute.
 * So resolvers see a principal already acting for its end user, and a request past a limit
 * never reaches the job engine.
 */
import {
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  GraphQLError,
  type GraphQLObjectType,
  getArgumentValues,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { actAs } from '../auth/authenticate.ts';
import { badUserInput } from '../errors.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import { enforceRequestRate } from '../limits/request-rate.ts';
import { requirePrincipal } from '../schema/access.ts';
import type { GatewayContext } from '../schema/builder.ts';

/** Root fields of the operation, through inline fragments and fragment spreads. */
export function rootFields(document: DocumentNode, selectionSet: SelectionSetNode): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT)
      return rootFields(document, selection.selectionSet);
    const fragment = document.definitions.find(
      (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
    );
    return fragment?.kind === Kind.FRAGMENT_DEFINITION
      ? rootFields(document, fragment.selectionSet)
      : [];
  });
}

function rootType(args: ExecutionArgs, operation: OperationDefinitionNode) {
  const { schema } = args;
  const types: Record<string, GraphQLObjectType | null | undefined> = {
    query: schema.getQueryType(),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  };
  return types[operation.operation];
}

/** The one end user the operation acts for, if any. */
function endUserOf(args: ExecutionArgs, operation: OperationDefinitionNode): string | undefined {
  const type = rootType(args, operation);
  const endUsers = new Set<string>();
  for (const field of rootFields(args.document, operation.selectionSet)) {
    const definition = type?.getFields()[field.name.value];
    if (!definition) continue;
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(definition, field, args.variableValues ?? {});
    } catch {
      continue; // execution reports bad arguments itself
    }
    const input = values.input as { endUserId?: unknown } | null | undefined;
    for (const candidate of [values.endUserId, input?.endUserId]) {
      if (typeof candidate === 'string') endUsers.add(candidate);
    }
  }
  if (endUsers.size > 1) {
    throw badUserInput('endUserId', 'One operation may act for one end user only');
  }
  return endUsers.values().next().value;
}

const admitted = new WeakSet<GatewayContext>();

/** Throws a GatewayError when the operation may not run; idempotent per context. */
export async function admitOperation(args: ExecutionArgs, rateLimiter: RateLimiter): Promise<void> {
  const context = args.contextValue as GatewayContext;
  if (admitted.has(context)) return;
  admitted.add(context);
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation) return; // execution reports it
  if (context.principal === null) {
    const introspectionOnly = rootFields(args.document, operation.selectionSet).every((field) =>
      field.name.value.startsWith('__'),
    );
    if (!introspectionOnly) requirePrincipal(context);
    return;
  }
  context.principal = actAs(context.principal, endUserOf(args, operation));
  await enforceRequestRate(rateLimiter, context.principal);
}

/**
 * Admission as an envelop plugin, for operations over HTTP. graphql-ws admits each operation
 * up front instead, because a subscriber joining a shared subscription runs no envelop hook.
 */
export function useOperationAdmission(rateLimiter: RateLimiter): Plugin {
  const admit = async ({
    args,
    setResultAndStopExecution,
  }: {
    args: ExecutionArgs;
    setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void;
  }) => {
    try {
      await admitOperation(args, rateLimiter);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      setResultAndStopExecution({ errors: [error] });
    }
  };
  return { onExecute: admit, onSubscribe: admit };
}

/**
 * Errors about the request itself (syntax, validation, variable values, limits) get the
 * contract's BAD_USER_INPUT code, with `extensions.field` naming the offending argument or
 * input field where one can be found, e.g. a bad enum value in `input.imageSize` → `imageSize`.
 * Codes Yoga or graphql-tools put there (GRAPHQL_PARSE_FAILED, BAD_REQUEST, …) are not the
 * contract's: they move to `extensions.reason`.
 */

import { ERROR_CODES } from '@zimage/contract';
import {
  type ASTNode,
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  Kind,
  visit,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Codes that stay as they are: the contract's, and the masked unexpected error's. */
const KEPT_CODES: ReadonlySet<unknown> = new Set([...ERROR_CODES, 'INTERNAL_SERVER_ERROR']);

/** `… at "input.imageSize"; …` (variable coercion) → `imageSize`. */
const AT_PATH = /\bat "([^"]+)"/;
/** `Field "prompt" of required type …` / `Field "GenerateImageInput.prompt" of required type …`. */
const REQUIRED_FIELD = /\bField "(?:[^".]+\.)?([^".]+)" of required type/;
/** `Variable "$id" of required type …` / `Variable "$id" got invalid value …`. */
const VARIABLE = /^Variable "\$([^"]+)"/;

/** The argument or object field whose value is `valueNode`, found by walking the document. */
function fieldOfValue(document: DocumentNode, valueNode: ASTNode): string | undefined {
  let found: string | undefined;
  visit(document, {
    enter(node) {
      if (found !== undefined) return false;
      if (
        (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) &&
        node.value === valueNode
      ) {
        found = node.name.value;
        return false;
      }
      return undefined;
    },
  });
  return found;
}

function fieldOf(error: GraphQLError, document: DocumentNode | undefined): string | undefined {
  const atPath = AT_PATH.exec(error.message)?.[1];
  if (atPath !== undefined)
    return atPath
      .replace(/\[\d+\]/g, '')
      .split('.')
      .at(-1);
  const required = REQUIRED_FIELD.exec(error.message)?.[1];
  if (required !== undefined) return required;
  const node = error.nodes?.[0];
  const ofValue = document && node ? fieldOfValue(document, node) : undefined;
  return ofValue ?? VARIABLE.exec(error.message)?.[1];
}

/**
 * Gives the error BAD_USER_INPUT (and the field) unless it has a contract code already. In
 * place: the error stays the one Yoga produced, so Yoga does not log a caller's mistake as a
 * server error.
 */
export function asBadUserInput<E extends GraphQLError>(error: E, document?: DocumentNode): E {
  if (KEPT_CODES.has(error.extensions.code)) return error;
  const extensions = error.extensions as Record<string, unknown>;
  if (extensions.code !== undefined) extensions.reason = extensions.code;
  extensions.code = 'BAD_USER_INPUT';
  const field = fieldOf(error, document);
  if (field !== undefined) extensions.field = field;
  return error;
}

/**
 * Errors of a result that are about the request: the ones without a path (a resolver's errors
 * have one), i.e. variable values that could not be coerced.
 */
function codeRequestErrors(result: ExecutionResult): void {
  for (const error of result.errors ?? []) if (error.path === undefined) asBadUserInput(error);
}

export function useBadUserInputCodes(): Plugin {
  return {
    onValidate({ params }) {
      return ({ result }) => {
        for (const error of result) {
          if (error instanceof GraphQLError) asBadUserInput(error, params.documentAST);
        }
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result }) {
          if (!(Symbol.asyncIterator in result)) codeRequestErrors(result);
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) codeRequestErrors(result);
        },
      };
    },
  };
}

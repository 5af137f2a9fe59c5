/** A failed admin mutation as the form shows it: under the field the gateway names, else on top. */
import type { CombinedError } from 'urql';
import { describeError, errorField } from '../../graphql/errors.ts';

export interface FormFailure {
  field: string | undefined;
  message: string;
}

export const formFailure = (error: CombinedError): FormFailure => ({
  field: errorCodeIsInput(error) ? errorField(error) : undefined,
  message: describeError(error),
});

const errorCodeIsInput = (error: CombinedError) =>
  error.graphQLErrors[0]?.extensions?.code === 'BAD_USER_INPUT';

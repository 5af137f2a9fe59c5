/**
 * Queries and mutations over HTTP POST. A request that got no answer (refused, reset, timed
 * out, or a 502/503/504 from a proxy in front of the gateway) is sent again a few times: every
 * operation of the client may be — reads change nothing, `cancelJob` of a cancelled job is a
 * no-op, and `generateImage` carries an idempotency key, so a retry never pays twice.
 */
import { type DocumentNode, print } from '@0no-co/graphql.web';
import { errorOfGraphQL, type GraphQLErrorBody, ZimageError } from './errors.ts';
import type { TadaDocumentNode } from './graphql.ts';
import { backoffMs, wait } from './wait.ts';

export interface HttpTransportOptions {
  graphqlUrl: string;
  authorization: string;
  fetch: typeof fetch;
  /** Per attempt. */
  requestTimeoutMs: number;
  /** Further attempts after a request that got no answer. */
  networkRetries: number;
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

/** Statuses a load balancer or proxy answers while the gateway behind it is away. */
const GATEWAY_AWAY = new Set([502, 503, 504]);

const printed = new WeakMap<object, string>();

function queryText(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

/** No answer worth reading; another attempt may get one. */
class NoAnswer extends Error {}

export type Request = <Result, Variables>(
  document: TadaDocumentNode<Result, Variables>,
  variables: Variables,
  options?: RequestOptions,
) => Promise<Result>;

export function createHttpTransport(options: HttpTransportOptions): Request {
  async function attempt(body: string, signal: AbortSignal | undefined): Promise<unknown> {
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    let response: Response;
    try {
      response = await options.fetch(options.graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: options.authorization,
        },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      throw new NoAnswer(timeout.aborted ? 'timed out' : String(cause), { cause });
    }
    const parsed = (await response.json().catch(() => undefined)) as
      | { data?: unknown; errors?: GraphQLErrorBody[] }
      | undefined;
    if (parsed?.errors?.length) throw errorOfGraphQL(parsed.errors[0]);
    if (parsed?.data != null) return parsed.data;
    if (GATEWAY_AWAY.has(response.status)) throw new NoAnswer(`HTTP ${response.status}`);
    throw new ZimageError(
      'UNEXPECTED_RESPONSE',
      `The gateway answered HTTP ${response.status} without GraphQL data`,
    );
  }

  return async function request<Result, Variables>(
    document: TadaDocumentNode<Result, Variables>,
    variables: Variables,
    { signal }: RequestOptions = {},
  ): Promise<Result> {
    const body = JSON.stringify({ query: queryText(document), variables });
    for (let attempts = 0; ; attempts++) {
      try {
        return (await attempt(body, signal)) as Result;
      } catch (error) {
        if (!(error instanceof NoAnswer)) throw error;
        if (attempts >= options.networkRetries) {
          throw new ZimageError(
            'NETWORK_ERROR',
            `No answer from the gateway at ${options.graphqlUrl}: ${error.message}`,
            { cause: error.cause ?? error },
          );
        }
        await wait(backoffMs(attempts, 200, 2_000), signal);
      }
    }
  };
}

import { createClient, fetchExchange } from 'urql';
import { GRAPHQL_PATH } from '../../graphql/client.ts';
import { describeError } from '../../graphql/errors.ts';
import { ViewerNameQuery } from '../../graphql/operations.ts';

export type KeyCheck = { ok: true; name: string } | { ok: false; message: string };

/** Asks the gateway who the key belongs to; a rejected key is never stored. */
export async function checkKeyWithGateway(apiKey: string): Promise<KeyCheck> {
  const client = createClient({
    url: GRAPHQL_PATH,
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: { headers: { authorization: `Bearer ${apiKey}` } },
    exchanges: [fetchExchange],
  });
  const result = await client.query(ViewerNameQuery, {}).toPromise();
  if (result.data) return { ok: true, name: result.data.viewer.name };
  return {
    ok: false,
    message: result.error ? describeError(result.error) : 'The gateway gave no answer.',
  };
}

/**
 * "Copy as" snippets that make the same job again elsewhere. They never contain the signed-in
 * key: a snippet gets pasted into chats and scripts, so each reads its key from the environment.
 */
import type { GenerateImageInput, Job } from '../../graphql/operations.ts';
import { inputFromJob } from '../generate/form-values.ts';

export const SNIPPET_KINDS = ['curl', 'graphql', 'client'] as const;
export type SnippetKind = (typeof SNIPPET_KINDS)[number];

export const SNIPPET_LABELS: Record<SnippetKind, string> = {
  curl: 'cURL',
  graphql: 'GraphQL',
  client: '@zimage/client',
};

const MUTATION = `mutation GenerateImage($input: GenerateImageInput!) {
  generateImage(input: $input) {
    id
    status
    costUsd
  }
}`;

const json = (value: unknown) => JSON.stringify(value, null, 2);

function graphqlSnippet(input: GenerateImageInput): string {
  return `${MUTATION}\n\n# Variables\n${json({ input })}\n`;
}

function curlSnippet(input: GenerateImageInput, origin: string): string {
  const body = JSON.stringify({ query: MUTATION.replace(/\s+/g, ' '), variables: { input } });
  // A quoted heredoc passes the body verbatim, whatever quotes the prompt contains.
  return [
    `curl ${origin}/graphql \\`,
    `  -H 'content-type: application/json' \\`,
    `  -H "authorization: Bearer $ZIMAGE_API_KEY" \\`,
    `  --data-binary @- <<'JSON'`,
    body,
    'JSON',
    '',
  ].join('\n');
}

/**
 * @zimage/client, the gateway's typed client: the same key and input as the dashboard's (a
 * dashboard user has a gateway key, not a Pixazo one), waiting for the finished job.
 */
function clientSnippet(input: GenerateImageInput, origin: string): string {
  const fields = Object.entries(input)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]) => `  ${name}: ${JSON.stringify(value)},`)
    .join('\n');
  return `import { createZimageClient } from '@zimage/client';

const zimage = createZimageClient({
  url: ${JSON.stringify(origin)},
  apiKey: process.env.ZIMAGE_API_KEY ?? '',
});

const job = await zimage.generate({
${fields}
});
const done = await zimage.waitFor(job.id, { timeoutMs: 120_000 });
console.log(done.status, done.images.map((image) => image.url));
await zimage.close();
`;
}

export function snippetFor(kind: SnippetKind, job: Job, origin: string): string {
  const input = inputFromJob(job);
  switch (kind) {
    case 'curl':
      return curlSnippet(input, origin);
    case 'graphql':
      return graphqlSnippet(input);
    case 'client':
      return clientSnippet(input, origin);
  }
}

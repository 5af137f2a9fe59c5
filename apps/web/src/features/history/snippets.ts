/**
 * "Copy as" snippets that make the same job again elsewhere. They never contain the signed-in
 * key: a snippet gets pasted into chats and scripts, so each reads its key from the environment.
 */
import type { GenerateImageInput, Job } from '../../graphql/operations.ts';
import { inputFromJob } from '../generate/form-values.ts';

export const SNIPPET_KINDS = ['curl', 'graphql', 'core'] as const;
export type SnippetKind = (typeof SNIPPET_KINDS)[number];

export const SNIPPET_LABELS: Record<SnippetKind, string> = {
  curl: 'cURL',
  graphql: 'GraphQL',
  core: '@zimage/core',
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

/** @zimage/core speaks Pixazo's own API: lowercase values and its model keys (turbo, base). */
function coreSnippet(input: GenerateImageInput): string {
  const lower = (value: string | null | undefined) => value?.toLowerCase();
  const params = {
    model: lower(input.model?.replace(/^Z_IMAGE_/, '')),
    prompt: input.prompt,
    imageSize: lower(input.imageSize),
    numInferenceSteps: input.numInferenceSteps,
    guidanceScale: input.guidanceScale ?? undefined,
    numImages: input.numImages,
    enableSafetyChecker: input.enableSafetyChecker,
    outputFormat: lower(input.outputFormat),
    acceleration: lower(input.acceleration),
  };
  const fields = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]) => `  ${name}: ${JSON.stringify(value)},`)
    .join('\n');
  return `import { PixazoClient } from '@zimage/core';

// @zimage/core calls Pixazo directly, with a Pixazo subscription key (not a gateway key).
const pixazo = new PixazoClient({ apiKey: process.env.PIXAZO_API_KEY ?? '' });

const { status } = await pixazo.generate({
${fields}
});
console.log(status.mediaUrls);
`;
}

export function snippetFor(kind: SnippetKind, job: Job, origin: string): string {
  const input = inputFromJob(job);
  switch (kind) {
    case 'curl':
      return curlSnippet(input, origin);
    case 'graphql':
      return graphqlSnippet(input);
    case 'core':
      return coreSnippet(input);
  }
}

/**
 * GraphiQL for a browser's `GET /graphql` (unless GRAPHIQL=false), as a small HTML page plus
 * static files. @graphql-yoga/render-graphiql inlines its whole build (the app, its styles,
 * Monaco's three workers and a 150 KB favicon: 9 MB) into every page it renders; here that
 * build is split into files named by content hash under `<endpoint>/graphiql/`, which browsers
 * cache forever, sent brotli- or gzip-compressed as Accept-Encoding allows (each compressed
 * once, when first asked for). A visit costs a page of about 1 KB, plus about 2 MB of assets
 * the first time. The page has no inline script or style, so a Content-Security-Policy keeps
 * it to its own origin. The build is loaded only when GraphiQL is first opened.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import { methodNotAllowed, sendText } from './respond.ts';

/** What the query editor shows first; GraphiQL sends its Headers tab with every operation. */
const DEFAULT_QUERY = `# Put your API key in the Headers tab below:
#   { "Authorization": "Bearer zk_..." }
# Subscriptions (jobUpdated, myJobs) run over graphql-ws with the same header.
{
  viewer {
    name
    scopes
    usage { spentTodayUsd dailyBudgetUsd jobsInFlight }
  }
  models { id name priceUsdPerImage }
}
`;

const TITLE = 'zimage GraphQL';

/**
 * Scripts, workers and fonts from the gateway only; connections to it (fetch, and graphql-ws:
 * 'self' covers ws:/wss: of the same host). Inline styles stay allowed: GraphiQL and Monaco add
 * style elements at run time (themes, layout), and styles cannot run code.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

type Encoding = 'br' | 'gzip';

const compressors: Record<Encoding, (bytes: Buffer) => Promise<Buffer>> = {
  // Quality 5: within a few percent of the best ratio at a small fraction of its time (the best
  // takes half a minute on these 9 MB).
  br: (bytes) =>
    promisify(brotliCompress)(bytes, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: 5,
        [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  gzip: (bytes) => promisify(gzip)(bytes, { level: 6 }),
};

interface Asset {
  contentType: string;
  bytes: Buffer;
  /** Quoted, from the content hash that is also in the asset's URL. */
  etag: string;
  /** Memoized: each encoding is made once, on first request. */
  encoded: Partial<Record<Encoding, Promise<Buffer>>>;
}

interface Build {
  page: Buffer;
  /** By URL path. */
  assets: Map<string, Asset>;
}

const contentHash = (bytes: Buffer) =>
  createHash('sha256').update(bytes).digest('base64url').slice(0, 16);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function build(prefix: string): Promise<Build> {
  const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
  const assets = new Map<string, Asset>();
  const add = (name: string, extension: string, contentType: string, bytes: Buffer) => {
    const hash = contentHash(bytes);
    const path = `${prefix}${name}-${hash}.${extension}`;
    assets.set(path, { contentType, bytes, etag: `"${hash}"`, encoded: {} });
    return path;
  };
  const javascript = 'text/javascript; charset=utf-8';
  // Monaco asks for its workers by these labels (render-graphiql's own inline script names them).
  const workers = {
    editorWorkerService: add(
      'editor-worker',
      'js',
      javascript,
      Buffer.from(bundle.editorWorkerService),
    ),
    json: add('json-worker', 'js', javascript, Buffer.from(bundle.jsonWorker)),
    graphql: add('graphql-worker', 'js', javascript, Buffer.from(bundle.graphqlWorker)),
  };
  const options = { title: TITLE, subscriptionsProtocol: 'WS', defaultQuery: DEFAULT_QUERY };
  // What render-graphiql's inline script does, as a file of its own.
  const app = [
    `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => (${JSON.stringify(workers)})[label] };`,
    bundle.js,
    `;YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${JSON.stringify(options)});`,
  ].join('\n');
  const script = add('graphiql', 'js', javascript, Buffer.from(app));
  const style = add('graphiql', 'css', 'text/css; charset=utf-8', Buffer.from(bundle.css));
  const [, faviconType = 'image/x-icon', faviconBase64 = ''] =
    /^data:([^;]+);base64,(.*)$/s.exec(bundle.favicon) ?? [];
  const favicon = add('favicon', 'ico', faviconType, Buffer.from(faviconBase64, 'base64'));
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(TITLE)}</title>
<link rel="icon" href="${favicon}">
<link rel="stylesheet" href="${style}">
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run GraphiQL.</noscript>
<div id="root"></div>
<script src="${script}"></script>
</body>
</html>
`;
  return { page: Buffer.from(page), assets };
}

/**
 * The encoding to send (brotli before gzip) among those Accept-Encoding weighs above 0, by name
 * or as `*`; null: the bytes as they are.
 */
function encodingFor(req: IncomingMessage): Encoding | null {
  const weights = new Map<string, number>();
  for (const part of (req.headers['accept-encoding'] ?? '').split(',')) {
    const [name = '', ...params] = part.split(';').map((token) => token.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    weights.set(name, q === undefined ? 1 : Number(q.slice(2)));
  }
  const weight = (encoding: Encoding) => weights.get(encoding) ?? weights.get('*') ?? 0;
  return (['br', 'gzip'] as const).find((encoding) => weight(encoding) > 0) ?? null;
}

export interface GraphiqlRoute {
  /** A browser asking the GraphQL endpoint for a page: GET, with text/html acceptable. */
  wantsPage(req: IncomingMessage): boolean;
  page(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Whether `pathname` is one of GraphiQL's asset paths (under `<endpoint>/graphiql/`). */
  ownsPath(pathname: string): boolean;
  asset(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void>;
}

export function createGraphiqlRoute(endpoint: string): GraphiqlRoute {
  const prefix = `${endpoint}/graphiql/`;
  let built: Promise<Build> | undefined;
  const loaded = () => {
    built ??= build(prefix);
    return built;
  };

  return {
    wantsPage: (req) => req.method === 'GET' && !!req.headers.accept?.includes('text/html'),

    async page(_req, res) {
      const { page } = await loaded();
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.length,
        // Small and revalidated, so a new gateway version's asset names are picked up at once.
        'cache-control': 'no-cache',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      });
      res.end(page);
    },

    ownsPath: (pathname) => pathname.startsWith(prefix),

    async asset(req, res, pathname) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return methodNotAllowed(res, ['GET', 'HEAD']);
      }
      const asset = (await loaded()).assets.get(pathname);
      if (asset === undefined) return sendText(res, 404, 'Not Found\n');
      const encoding = encodingFor(req);
      const etag = encoding === null ? asset.etag : `${asset.etag.slice(0, -1)}-${encoding}"`;
      const headers = {
        'content-type': asset.contentType,
        'cache-control': 'public, max-age=31536000, immutable',
        etag,
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
      };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      let body = asset.bytes;
      if (encoding !== null) {
        asset.encoded[encoding] ??= compressors[encoding](asset.bytes);
        body = await asset.encoded[encoding];
      }
      res.writeHead(200, {
        ...headers,
        ...(encoding === null ? {} : { 'content-encoding': encoding }),
        'content-length': body.length,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

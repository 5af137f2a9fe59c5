/**
 * Every other path: the dashboard build (apps/web/dist) as static files, with index.html for
 * client-side routes (paths without a file extension). Hashed files under /assets/ are cached
 * forever, everything else revalidated. Paths are resolved inside the build directory only.
 * Without a build, a small page says so and points at /graphql.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { methodNotAllowed, sendText } from './respond.ts';
import { fileSize, serveFile } from './serve-file.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

const HTML_HEADERS = {
  'content-type': CONTENT_TYPES['.html'] as string,
  'cache-control': 'no-cache',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>zimage gateway</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>zimage gateway</h1>
<p>The dashboard is not built. Build it with <code>pnpm --filter @zimage/web build</code>
(or start with <code>pnpm start</code>, which builds it), then reload.</p>
<p>The GraphQL API is at <a href="/graphql">/graphql</a>, with GraphiQL in a browser.</p>
</body>
</html>
`;

/** The file a URL path names inside `root`, or null when it would leave it. */
function fileIn(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const resolved = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  return resolved === root || resolved.startsWith(`${root}${path.sep}`) ? resolved : null;
}

export function createDashboardRoute(distDir: string) {
  const root = path.resolve(distDir);
  const indexHtml = path.join(root, 'index.html');

  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return methodNotAllowed(res, ['GET', 'HEAD']);
    // Checked per request: the dashboard may be built while the gateway runs.
    if ((await fileSize(indexHtml)) === null) {
      const status = pathname === '/' ? 200 : 404;
      res.writeHead(status, {
        ...HTML_HEADERS,
        'content-length': Buffer.byteLength(NOT_BUILT_PAGE),
      });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT_PAGE);
      return;
    }
    const file = fileIn(root, pathname);
    if (file === null) return sendText(res, 404, 'Not Found\n');
    const extension = path.extname(file);
    // `/` and client-side routes: the app decides what to show.
    if (extension === '') return serveFile(req, res, indexHtml, HTML_HEADERS);
    const immutable = pathname.startsWith('/assets/');
    await serveFile(req, res, file, {
      'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...(extension === '.html' ? HTML_HEADERS : {}),
    });
  };
}

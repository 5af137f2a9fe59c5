/**
 * Every other path: the dashboard build (apps/web/dist) as static files, with index.html for
 * client-side routes (paths without a file extension). Hashed files under /assets/ are cached
 * forever, everything else revalidated. Paths are resolved inside the build directory only.
 * Without a build, a small page says so and points at /graphql. Every page is sent with a
 * Content-Security-Policy that allows no inline script or style and nothing from elsewhere
 * (the build has neither: Vite emits files only).
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

/**
 * Scripts, styles and connections (fetch, and the graphql-ws socket: browsers count ws:/wss: of
 * the page's own host as 'self') are the gateway's own; images may also be data: and blob: URLs,
 * and come from the origin image URLs start with (PUBLIC_URL, or the listen address), which is
 * not the page's when the dashboard is reached through another address.
 */
function dashboardContentSecurityPolicy(imageOrigin: string | null): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    `img-src 'self' data: blob:${imageOrigin === null ? '' : ` ${imageOrigin}`}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>zimage gateway</title></head>
<body>
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

/**
 * `publicUrl`: what image URLs start with (server.ts: PUBLIC_URL, else the listen address), for
 * the policy's images.
 */
export function createDashboardRoute(distDir: string, publicUrl: () => string | null) {
  const root = path.resolve(distDir);
  const indexHtml = path.join(root, 'index.html');
  const htmlHeaders = () => {
    const base = publicUrl();
    return {
      'content-type': CONTENT_TYPES['.html'] as string,
      'cache-control': 'no-cache',
      'content-security-policy': dashboardContentSecurityPolicy(
        base === null ? null : new URL(base).origin,
      ),
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    };
  };

  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return methodNotAllowed(res, ['GET', 'HEAD']);
    // Checked per request: the dashboard may be built while the gateway runs.
    if ((await fileSize(indexHtml)) === null) {
      const status = pathname === '/' ? 200 : 404;
      res.writeHead(status, {
        ...htmlHeaders(),
        'content-length': Buffer.byteLength(NOT_BUILT_PAGE),
      });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT_PAGE);
      return;
    }
    const file = fileIn(root, pathname);
    if (file === null) return sendText(res, 404, 'Not Found\n');
    const extension = path.extname(file);
    // `/` and client-side routes: the app decides what to show.
    if (extension === '') return serveFile(req, res, indexHtml, htmlHeaders());
    const immutable = pathname.startsWith('/assets/');
    await serveFile(req, res, file, {
      'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...(extension === '.html' ? htmlHeaders() : {}),
    });
  };
}

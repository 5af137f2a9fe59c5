/**
 * GraphiQL as a browser gets it: a small page with no inline script or style, under a CSP,
 * whose assets are content-hashed files, cached forever and sent compressed; and nothing of
 * it with GRAPHIQL=false. (apps/web's Chromium tests run it under its CSP.)
 */
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayHarness, startGatewayHarness } from './helpers/gateway-harness.ts';

/** What a browser sends when it opens a URL. */
const NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** As sent: still compressed when content-encoding says so (fetch would decode it). */
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers });
    req.once('error', reject);
    req.once('response', async (res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
    });
    req.end();
  });
}

describe('GraphiQL on (the default)', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness();
  });
  afterAll(() => h.close());

  /** The page, and the path of every asset it loads, the workers its script names included. */
  async function pageAndAssets() {
    const page = await get(`${h.gateway.url}/graphql`, { accept: NAVIGATION });
    const html = page.body.toString();
    const linked = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    const script = linked.find((path) => path.endsWith('.js')) as string;
    const source = (await get(`${h.gateway.url}${script}`)).body.toString();
    const workers = [...source.matchAll(/"(\/graphql\/graphiql\/[^"]+-worker-[^"]+\.js)"/g)].map(
      (m) => m[1] as string,
    );
    return { page, html, assets: [...linked, ...new Set(workers)] };
  }

  it('is a small page without inline script or style, under a Content-Security-Policy', async () => {
    const { page, html, assets } = await pageAndAssets();
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body.length).toBeLessThan(2048);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    // The app and its styles, the favicon, and Monaco's three workers.
    expect(assets.map((path) => path.replace(/-[\w-]{16}\./, '.'))).toEqual([
      '/graphql/graphiql/favicon.ico',
      '/graphql/graphiql/graphiql.css',
      '/graphql/graphiql/graphiql.js',
      '/graphql/graphiql/editor-worker.js',
      '/graphql/graphiql/json-worker.js',
      '/graphql/graphiql/graphql-worker.js',
    ]);
  });

  it('sends its assets compressed by Accept-Encoding, named by content hash, cached forever', async () => {
    const { assets } = await pageAndAssets();
    let compressed = 0;
    for (const path of assets) {
      const url = `${h.gateway.url}${path}`;
      const plain = await get(url);
      const br = await get(url, { 'accept-encoding': 'gzip, deflate, br' });
      const gzip = await get(url, { 'accept-encoding': 'gzip' });
      for (const answer of [plain, br, gzip]) {
        expect(answer.status).toBe(200);
        expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(answer.headers.vary).toBe('accept-encoding');
      }
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(br.headers['content-encoding']).toBe('br');
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
      expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
      compressed += br.body.length;

      // Revalidation needs no body.
      const etag = br.headers.etag as string;
      expect(etag).toMatch(/^"[\w-]{16}-br"$/);
      const again = await get(url, { 'accept-encoding': 'br', 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
    }
    // The 9 MB build, as a first visit downloads it.
    expect(compressed).toBeLessThan(3 * 1024 * 1024);
    expect(
      (await get(`${h.gateway.url}/graphql/graphiql/graphiql-0000000000000000.js`)).status,
    ).toBe(404);
  });

  it('leaves GraphQL requests to the GraphQL endpoint', async () => {
    const query = encodeURIComponent('{ __typename }');
    const answer = await get(`${h.gateway.url}/graphql?query=${query}`, {
      accept: 'application/json',
      'x-graphql-csrf-token': '1',
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('GRAPHIQL=false', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness({ graphiql: false });
  });
  afterAll(() => h.close());

  it('answers a browser with GraphQL over GET, which refuses it; no IDE, no assets', async () => {
    const browser = await get(`${h.gateway.url}/graphql`, { accept: NAVIGATION });
    // GraphQL's GET transport: without the CSRF header a browser's GET is refused.
    expect(browser.status).toBe(403);
    expect(browser.headers['content-type']).toMatch(/^application\/json/);
    expect(browser.body.toString()).not.toContain('<html');

    const htmlOnly = await get(`${h.gateway.url}/graphql`, { accept: 'text/html' });
    expect(htmlOnly.status).toBe(406);

    const asset = await get(`${h.gateway.url}/graphql/graphiql/graphiql-0000000000000000.js`);
    expect(asset.status).toBe(404);
  });
});

/**
 * The plain HTTP routes beside /graphql: health, readiness, metrics, images, Pixazo webhooks
 * and the dashboard build.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayHarness, GENERATE, startGatewayHarness } from './helpers/gateway-harness.ts';

let h: GatewayHarness;
let key: string;
let dashboardDir: string;

beforeAll(async () => {
  dashboardDir = await mkdtemp(path.join(tmpdir(), 'zimage-dashboard-'));
  await mkdir(path.join(dashboardDir, 'assets'));
  await writeFile(path.join(dashboardDir, 'index.html'), '<!doctype html><title>dashboard</title>');
  await writeFile(path.join(dashboardDir, 'assets', 'app-1234.js'), 'console.log(1)');
  await writeFile(path.join(dashboardDir, 'favicon.svg'), '<svg/>');
  h = await startGatewayHarness({ dashboardDir });
  key = (await h.createKey()).secret;
});
afterAll(async () => {
  await h.close();
  await rm(dashboardDir, { recursive: true, force: true });
});

/** A request with the path exactly as given (fetch would normalize `..` away). */
function rawGet(pathname: string): Promise<number> {
  const { hostname, port } = new URL(h.gateway.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: pathname, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${h.gateway.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${h.gateway.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
  });
});

describe('GraphiQL', () => {
  it('is served with its own assets, loading nothing from another host', async () => {
    const response = await fetch(`${h.gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('zimage GraphQL');
    // Yoga's default page loads GraphiQL from unpkg, with unquoted attributes.
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).not.toContain('unpkg.com');
  });
});

describe('/metrics', () => {
  it('counts jobs by status, Pixazo calls, updates, subscriptions and the queue', async () => {
    const { body } = await h.graphql(GENERATE, {
      key,
      variables: { input: { prompt: 'counted', imageSize: 'SQUARE_1_1' } },
    });
    await h.waitForTerminal(key, (body.data as { generateImage: { id: string } }).generateImage.id);
    const response = await fetch(`${h.gateway.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^zimage_jobs_total\{status="COMPLETED"\} [1-9]/m);
    expect(text).toMatch(/^zimage_pixazo_requests_total\{route="generate_turbo",code="202"\} 1$/m);
    expect(text).toMatch(/^zimage_pixazo_requests_total\{route="status",code="200"\} [1-9]/m);
    expect(text).toMatch(/^zimage_pixazo_requests_total\{route="media",code="200"\} 1$/m);
    expect(text).toMatch(/^zimage_job_updates_total\{source="poll"\} [1-9]/m);
    expect(text).toMatch(/^zimage_subscriptions_open\{transport="ws"\} 0$/m);
    expect(text).toMatch(/^zimage_queue_depth 0$/m);
    expect(text).toMatch(/^zimage_process_cpu_seconds_total /m);
  });
});

describe('/images', () => {
  it('answers 404 for names the image store does not make, and for missing files', async () => {
    expect((await fetch(`${h.gateway.url}/images/job_x/../../zimage.db`)).status).toBe(404);
    expect(await rawGet('/images/job_abc/..%2F..%2Fzimage.db')).toBe(404);
    expect(
      (await fetch(`${h.gateway.url}/images/job_0123/AAAAAAAAAAAAAAAAAAAAAA.png`)).status,
    ).toBe(404);
    expect((await fetch(`${h.gateway.url}/images/job_0123`)).status).toBe(404);
  });
});

describe('/webhooks/pixazo', () => {
  const url = () => `${h.gateway.url}/webhooks/pixazo/job_0123/token`;

  it('takes POST only, and answers 404 for a job it does not know', async () => {
    expect((await fetch(url())).status).toBe(405);
    const unknown = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request_id: 'x', status: 'COMPLETED' }),
    });
    expect(unknown.status).toBe(404);
    expect(
      (await fetch(`${h.gateway.url}/webhooks/pixazo/job_0123`, { method: 'POST' })).status,
    ).toBe(404);
  });

  it('refuses bodies over the bound', async () => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(128 * 1024) }),
    });
    expect(response.status).toBe(413);
  });
});

describe('the dashboard', () => {
  it('serves the build, with index.html for client-side routes', async () => {
    const index = await fetch(`${h.gateway.url}/`);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>dashboard</title>');
    const route = await fetch(`${h.gateway.url}/jobs/job_123`);
    expect(await route.text()).toContain('<title>dashboard</title>');
    const asset = await fetch(`${h.gateway.url}/assets/app-1234.js`);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const icon = await fetch(`${h.gateway.url}/favicon.svg`);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
  });

  it('sends its pages with a Content-Security-Policy: no inline script, nothing from elsewhere', async () => {
    const bare = await startGatewayHarness({ dashboardDir: path.join(dashboardDir, 'nothing') });
    try {
      const pages = [
        await fetch(`${h.gateway.url}/`),
        await fetch(`${h.gateway.url}/jobs/job_123`),
        await fetch(`${bare.gateway.url}/`),
      ];
      for (const [i, page] of pages.entries()) {
        const origin = new URL(i < 2 ? h.gateway.url : bare.gateway.url).origin;
        expect(page.headers.get('content-security-policy')).toBe(
          "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
            `img-src 'self' data: blob: ${origin}; object-src 'none'; base-uri 'self'; ` +
            "form-action 'self'; frame-ancestors 'none'",
        );
      }
      // The page shown without a build needs nothing the policy forbids.
      expect(await pages[2]?.text()).not.toMatch(/<script|<style|\sstyle=/);
    } finally {
      await bare.close();
    }
  });

  it('answers 404 for missing files and for paths outside the build', async () => {
    expect((await fetch(`${h.gateway.url}/assets/missing.js`)).status).toBe(404);
    expect(await rawGet('/../package.json')).toBe(404);
    expect(await rawGet('/%2e%2e/%2e%2e/package.json')).toBe(404);
  });

  it('says so when there is no build', async () => {
    const bare = await startGatewayHarness({ dashboardDir: path.join(dashboardDir, 'nothing') });
    try {
      const page = await fetch(`${bare.gateway.url}/`);
      expect(page.status).toBe(200);
      const text = await page.text();
      expect(text).toContain('not built');
      expect(text).toContain('href="/graphql"');
    } finally {
      await bare.close();
    }
  });
});

describe('CORS', () => {
  it('lets the origins in CORS_ORIGINS call from a browser, and no others', async () => {
    const allowed = 'https://app.example.com';
    const cors = await startGatewayHarness({ corsOrigins: [allowed] });
    try {
      const preflight = (origin: string) =>
        fetch(`${cors.gateway.url}/graphql`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization, content-type',
          },
        });
      const ok = await preflight(allowed);
      expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
      expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
      const other = await preflight('https://evil.example.com');
      expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.com');
    } finally {
      await cors.close();
    }
  });

  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const response = await fetch(`${h.gateway.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

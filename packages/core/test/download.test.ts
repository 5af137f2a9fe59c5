import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  DownloadError,
  downloadImage,
  OUTPUT_FORMATS,
  type OutputFormat,
  PixazoClient,
  sniffImageFormat,
  streamImage,
} from '../src/index.ts';
import { failure } from './helpers/failure.ts';
import { type Handler, serveForEachTest } from './helpers/test-server.ts';

const images = {} as Record<OutputFormat, Buffer>;
beforeAll(async () => {
  const canvas = sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } });
  images.png = await canvas.clone().png().toBuffer();
  images.jpeg = await canvas.clone().jpeg().toBuffer();
  images.webp = await canvas.clone().webp().toBuffer();
});

const serve = serveForEachTest();

function serveBytes(bytes: Buffer, contentType: string | undefined): Handler {
  return (_req, res) => {
    res.writeHead(200, {
      'content-length': String(bytes.length),
      ...(contentType ? { 'content-type': contentType } : {}),
    });
    res.end(bytes);
  };
}

describe('downloadImage', () => {
  it.each(OUTPUT_FORMATS)(
    'reads %s declared as octet-stream by its magic bytes',
    async (format) => {
      const server = await serve(serveBytes(images[format], 'application/octet-stream'));
      const image = await downloadImage(`${server.url}/v1/x/output.ext`);
      expect(image.format).toBe(format);
      expect(image.contentType).toBe(`image/${format}`);
      const meta = await sharp(image.bytes).metadata();
      expect([meta.width, meta.height]).toEqual([64, 48]);
    },
  );

  it('accepts a matching declared image type and no type at all', async () => {
    const typed = await serve(serveBytes(images.webp, 'image/webp; charset=binary'));
    expect((await downloadImage(`${typed.url}/a`)).format).toBe('webp');
    const untyped = await serve(serveBytes(images.png, undefined));
    expect((await downloadImage(`${untyped.url}/a`)).format).toBe('png');
  });

  it.each([
    [
      'a non-image content type',
      serveBytes(Buffer.from('<html></html>'), 'text/html'),
      'text/html',
    ],
    [
      'bytes that are no image',
      serveBytes(Buffer.from('GIF89a....'), 'application/octet-stream'),
      'not a PNG, JPEG or WebP',
    ],
    ['a declared type the bytes contradict', serveBytes(Buffer.alloc(0), 'image/png'), 'not a PNG'],
  ])('rejects %s with DOWNLOAD_ERROR', async (_case, handler, says) => {
    const server = await serve(handler);
    const error = await failure(downloadImage(`${server.url}/a`));
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.code).toBe('DOWNLOAD_ERROR');
    expect(error.message).toContain(says);
  });

  it('rejects a JPEG served as image/png', async () => {
    const server = await serve(serveBytes(images.jpeg, 'image/png'));
    const error = await failure(downloadImage(`${server.url}/a`));
    expect(error.message).toContain('declared image/png but the bytes are jpeg');
  });

  it('rejects by Content-Length before reading the body', async () => {
    const server = await serve(serveBytes(images.png, 'image/png'));
    const error = await failure(downloadImage(`${server.url}/a`, { maxBytes: 100 }));
    expect(error.message).toContain(`${images.png.length} bytes is over the 100-byte limit`);
  });

  it('refuses a body that does not start like an image before reading the rest', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('<svg xmlns="http://www.w3.org/2000/svg">');
      // Never ended: the refusal must come from the first bytes.
    });
    const error = await failure(downloadImage(`${server.url}/a`));
    expect(error.message).toContain('not a PNG, JPEG or WebP image');
  });

  it('streams a checked body to a consumer, and stops it at the cap mid-stream', async () => {
    const big = Buffer.concat([images.png, Buffer.alloc(300 * 1024, 7)]);
    // Chunked, no Content-Length: only counting the streamed bytes can find it too large.
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(big);
    });
    const client = new PixazoClient({ apiKey: 'k', baseUrl: server.url });
    let received = 0;
    const error = await failure(
      streamImage(
        `${server.url}/a`,
        async ({ format, body }) => {
          expect(format).toBe('png');
          for await (const chunk of body) received += chunk.byteLength;
        },
        { maxBytes: 256 * 1024 },
      ),
    );
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.message).toContain('the body is over the 262144-byte limit');
    expect(received).toBeLessThanOrEqual(256 * 1024);
    const whole = await client.streamDownload(`${server.url}/a`, async ({ body }) => {
      let size = 0;
      for await (const chunk of body) size += chunk.byteLength;
      return size;
    });
    expect(whole).toBe(big.length);
  });

  it('cuts off a chunked body at the cap without reading the rest', async () => {
    let written = 0;
    let closed = false;
    let hungUp: () => void = () => {};
    const clientHungUp = new Promise<void>((resolve) => {
      hungUp = resolve;
    });
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.on('close', () => {
        closed = true;
        hungUp();
      });
      // An image's first bytes, so only the cap can refuse it.
      res.write(images.png.subarray(0, 16));
      const chunk = Buffer.alloc(64 * 1024, 1);
      // Endless unless the client hangs up; the cap must be what ends it.
      const pump = () => {
        if (closed) return;
        written += chunk.length;
        if (res.write(chunk)) setImmediate(pump);
        else res.once('drain', pump);
      };
      pump();
    });
    const error = await failure(downloadImage(`${server.url}/a`, { maxBytes: 256 * 1024 }));
    expect(error.message).toContain('the body is over the 262144-byte limit');
    await clientHungUp;
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('marks HTTP 5xx as transient and 404 as not', async () => {
    const server = await serve((req, res) => {
      res.writeHead(req.url === '/gone' ? 404 : 503);
      res.end();
    });
    expect(await failure(downloadImage(`${server.url}/gone`))).toMatchObject({
      status: 404,
      transient: false,
    });
    expect(await failure(downloadImage(`${server.url}/busy`))).toMatchObject({
      status: 503,
      transient: true,
    });
  });

  it('aborts with AbortError', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const controller = new AbortController();
    const pending = downloadImage(`${server.url}/a`, { signal: controller.signal });
    await server.arrived(1);
    controller.abort();
    expect(await failure(pending)).toBeInstanceOf(AbortError);
  });
});

describe('PixazoClient.download', () => {
  it('never sends the API key to the media host, and retries transient failures', async () => {
    const server = await serve((_req, res, _body, index) => {
      if (index === 0) {
        res.writeHead(502);
        res.end();
      } else serveBytes(images.jpeg, 'application/octet-stream')(_req, res, _body, index);
    });
    const client = new PixazoClient({ apiKey: 'media-key-test', random: () => 0 });
    const image = await client.download(`${server.url}/v1/out.ext`, {
      requestId: 'z-image-turbo-834_x',
    });
    expect(image.format).toBe('jpeg');
    expect(server.requests).toHaveLength(2);
    for (const request of server.requests)
      expect(request.headers['ocp-apim-subscription-key']).toBeUndefined();
  });

  it('applies maxDownloadBytes and tags errors with the request id', async () => {
    const server = await serve(serveBytes(images.png, 'image/png'));
    const client = new PixazoClient({ apiKey: 'k', maxDownloadBytes: 10 });
    const error = await failure(
      client.download(`${server.url}/a`, { requestId: 'z-image-base_1' }),
    );
    expect(error).toMatchObject({ code: 'DOWNLOAD_ERROR', requestId: 'z-image-base_1' });
  });
});

describe('sniffImageFormat', () => {
  it('knows the three formats and nothing else', () => {
    expect(sniffImageFormat(new Uint8Array(images.png))).toBe('png');
    expect(sniffImageFormat(new Uint8Array(images.jpeg))).toBe('jpeg');
    expect(sniffImageFormat(new Uint8Array(images.webp))).toBe('webp');
    expect(sniffImageFormat(new TextEncoder().encode('RIFF1234WAVE'))).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array(0))).toBeUndefined();
  });
});

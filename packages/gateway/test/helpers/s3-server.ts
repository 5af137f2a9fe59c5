/**
 * A real S3-compatible server for tests: s3rver 3.7.1 in a child process, behind a loopback
 * proxy that checks every request's AWS Signature V4 with the SDK's own signer, because
 * s3rver checks none (wrong credentials would pass). A request signed with other credentials,
 * or not signed, gets S3's 403 (`InvalidAccessKeyId`, `SignatureDoesNotMatch`) and never
 * reaches s3rver. `directory` is where s3rver keeps the objects' bytes, for tests that compare
 * what was stored with what was sent.
 */

import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { stopProcess } from './processes.ts';

const CHILD = fileURLToPath(new URL('./s3rver-child.ts', import.meta.url));

export interface TestS3 {
  /** The signature-checking endpoint (http://127.0.0.1:<port>), path-style. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** s3rver's own directory: `<bucket>/<key>._S3rver_object` holds each object's bytes. */
  readonly directory: string;
  /** Requests refused for their signature so far. */
  readonly refused: number;
  /** The bytes s3rver stored for a key, read from its directory. */
  storedFile(bucket: string, key: string): string;
  close(): Promise<void>;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData): string | Buffer =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** node:crypto as the signer's hash (the SDK's Checksum interface). */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash =
      secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.#hash.digest());
  }
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** `20261201T140000Z` → Date. */
function amzDate(text: string | undefined): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) return null;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

async function signatureProblem(
  req: IncomingMessage,
  credentials: TestS3['credentials'],
  region: string,
): Promise<[code: string, message: string] | null> {
  const match = AUTHORIZATION.exec(req.headers.authorization ?? '');
  if (!match) return ['AccessDenied', 'the request is not signed with AWS Signature V4'];
  const [, accessKeyId, , signedRegion, signedHeaders, signature] = match;
  if (accessKeyId !== credentials.accessKeyId) {
    return [
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    ];
  }
  const signingDate = amzDate(req.headers['x-amz-date'] as string | undefined);
  if (signingDate === null) return ['AccessDenied', 'x-amz-date is missing'];
  const rawUrl = req.url ?? '/';
  const queryStart = rawUrl.indexOf('?');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(
    queryStart < 0 ? '' : rawUrl.slice(queryStart + 1),
  )) {
    const earlier = query[key];
    query[key] = earlier === undefined ? value : [...[earlier].flat(), value];
  }
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders as string).split(';')) {
    const value = req.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  const signer = new SignatureV4({
    credentials,
    region,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  const expected = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart),
      query,
      headers,
    },
    { signingDate, signingRegion: signedRegion },
  );
  const wanted = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1];
  if (signedRegion !== region || wanted !== signature) {
    return [
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    ];
  }
  return null;
}

export async function startTestS3(): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'zimage-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let printed = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      printed += chunk;
      const found = /s3rver listening on (\d+)/.exec(printed)?.[1];
      if (found) resolve(Number(found));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
  });
  // s3rver knows one access key id (and checks no V4 signature): the proxy checks the secret.
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const region = 'us-east-1';
  let refused = 0;

  const proxy = createServer((req, res) => {
    void signatureProblem(req, credentials, region).then((problem) => {
      if (problem) {
        refused++;
        req.resume();
        return s3Error(res, 403, ...problem);
      }
      const { expect: _continue, ...headers } = req.headers;
      const upstream = httpRequest(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const { port: proxyPort } = proxy.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    region,
    credentials,
    directory,
    get refused() {
      return refused;
    },
    storedFile: (bucket, key) => path.join(directory, bucket, `${key}._S3rver_object`),
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await stopProcess(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

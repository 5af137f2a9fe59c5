/** Streams a file from disk, or answers 404 when there is no such regular file. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { sendText } from './respond.ts';

export async function fileSize(path: string): Promise<number | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  headers: Record<string, string>,
): Promise<void> {
  const size = await fileSize(path);
  if (size === null) {
    sendText(res, 404, 'Not Found\n');
    return;
  }
  res.writeHead(200, {
    'content-length': size,
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // A client that disconnects mid-file is not an error worth more than ending the stream.
  await pipeline(createReadStream(path), res).catch(() => res.destroy());
}

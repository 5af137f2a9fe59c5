/**
 * An HTTP gate in front of the gateway instance that receives Pixazo's callbacks (scale-out
 * tests): while held, callbacks wait at the gate, so a job cannot end before the test says so;
 * released, every waiting and later callback goes through unchanged. Other requests (image
 * URLs start with PUBLIC_URL too) pass at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { text } from 'node:stream/consumers';

export interface WebhookGate {
  /** http://127.0.0.1:<port>: the PUBLIC_URL to give every instance. */
  readonly url: string;
  hold(): void;
  release(): void;
  /** Callbacks (POSTs) that reached the gate so far, held or forwarded. */
  arrivals(): number;
  close(): Promise<void>;
}

export async function startWebhookGate(targetUrl: () => string): Promise<WebhookGate> {
  let waiting: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  let arrivals = 0;

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const isCallback = req.method === 'POST';
    if (isCallback) arrivals++;
    const body = isCallback ? await text(req) : undefined;
    if (isCallback) await waiting;
    const answer = await fetch(`${targetUrl()}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body,
    }).catch(() => null);
    if (!answer) return void res.writeHead(502).end();
    const contentType = answer.headers.get('content-type');
    res.writeHead(answer.status, contentType ? { 'content-type': contentType } : {});
    res.end(Buffer.from(await answer.arrayBuffer()));
  };
  const server = createServer((req, res) => void forward(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    hold() {
      waiting = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
    arrivals: () => arrivals,
    close() {
      open();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The fan-out floor: no GraphQL at all. A bare `ws` server that speaks just enough of
 * graphql-transport-ws for the bench clients (ack, and a `next` carrying the job as JSON for
 * each subscribe) and, on a status change, serializes the job once and sends it to every
 * socket under its operation id. What is left is the cost of WebSocket frames and socket
 * writes on this machine: no GraphQL server can deliver faster with one socket per subscriber.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { BaselineJob, BaselineServer } from './baseline.ts';

const PROTOCOL = 'graphql-transport-ws';

export async function startWsFloorServer(): Promise<BaselineServer> {
  const jobs = new Map<string, BaselineJob>();
  /** Per job: each subscribed socket and its operation id. */
  const watchers = new Map<string, Map<WebSocket, string>>();
  const httpServer: Server = createServer((_req, res) => res.writeHead(404).end());
  const webSockets = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });
  const payloadOf = (job: BaselineJob) => JSON.stringify({ data: { jobUpdated: job } });
  const next = (id: string, payload: string) =>
    `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`;

  webSockets.on('connection', (socket) => {
    let watching: Map<WebSocket, string> | undefined;
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        type: string;
        id?: string;
        payload?: { variables?: { id?: string } };
      };
      if (message.type === 'connection_init') {
        socket.send('{"type":"connection_ack"}');
      } else if (message.type === 'subscribe' && message.id) {
        const jobId = message.payload?.variables?.id ?? '';
        const job = jobs.get(jobId);
        if (!job) {
          socket.send(
            JSON.stringify({ id: message.id, type: 'error', payload: [{ message: 'No job' }] }),
          );
          return;
        }
        watching = watchers.get(jobId) ?? new Map();
        watchers.set(jobId, watching);
        watching.set(socket, message.id);
        socket.send(next(message.id, payloadOf(job)));
      }
    });
    socket.on('close', () => watching?.delete(socket));
  });

  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    jobs,
    publish(job) {
      jobs.set(job.id, job);
      const payload = payloadOf(job);
      for (const [socket, id] of watchers.get(job.id) ?? []) socket.send(next(id, payload));
    },
    async close() {
      for (const socket of webSockets.clients) socket.close(1001);
      webSockets.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/**
 * The fan-out baseline: a bare graphql-yoga + graphql-ws + `createPubSub` server, the way
 * their documentation wires them, with the gateway's Job type written as a small SDL schema.
 * Every subscriber has its own pub/sub subscription and its own execution of each event, which
 * is what the gateway's shared subscriptions avoid. No authentication, no limits.
 */
import { setMaxListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLScalarType } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createPubSub, createSchema, createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';

/** The Job the clients select, as the gateway's GraphQL layer would present it. */
export interface BaselineJob {
  id: string;
  status: string;
  model: string;
  prompt: string;
  imageSize: string;
  numInferenceSteps: number;
  guidanceScale: number | null;
  numImages: number;
  enableSafetyChecker: boolean;
  outputFormat: string;
  acceleration: string;
  queuePosition: number | null;
  error: string | null;
  costUsd: number;
  requestId: string | null;
  endUserId: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  images: { url: string; width: number; height: number; contentType: string; byteLength: number }[];
}

const typeDefs = /* GraphQL */ `
  scalar DateTime
  enum JobStatus { QUEUED PROCESSING COMPLETED FAILED ERROR CANCELLED }
  enum Model { Z_IMAGE_TURBO Z_IMAGE_BASE }
  enum ImageSize { SQUARE_1_1 LANDSCAPE_4_3 LANDSCAPE_16_9 PORTRAIT_3_4 PORTRAIT_9_16 }
  enum OutputFormat { PNG JPEG WEBP }
  enum Acceleration { NONE REGULAR FAST ULTRA_FAST }
  type Image { url: String! width: Int! height: Int! contentType: String! byteLength: Int! }
  type Job {
    id: ID!
    status: JobStatus!
    model: Model!
    prompt: String!
    imageSize: ImageSize!
    numInferenceSteps: Int!
    guidanceScale: Float
    numImages: Int!
    enableSafetyChecker: Boolean!
    outputFormat: OutputFormat!
    acceleration: Acceleration!
    queuePosition: Int
    error: String
    costUsd: Float!
    requestId: String
    endUserId: String
    createdAt: DateTime!
    updatedAt: DateTime!
    startedAt: DateTime
    completedAt: DateTime
    images: [Image!]!
  }
  type Query { job(id: ID!): Job }
  type Subscription { jobUpdated(id: ID!): Job! }
`;

const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (value) => (value as Date).toISOString(),
});

export interface BaselineServer {
  url: string;
  wsUrl: string;
  jobs: Map<string, BaselineJob>;
  /** Publishes the job's new state to its subscribers (through createPubSub). */
  publish(job: BaselineJob): void;
  close(): Promise<void>;
}

export async function startBaselineServer(): Promise<BaselineServer> {
  const jobs = new Map<string, BaselineJob>();
  // The default in-memory EventTarget, without Node's "possible leak" warning past 10 listeners
  // (every subscriber is one).
  const eventTarget = new EventTarget();
  setMaxListeners(0, eventTarget);
  const pubsub = createPubSub<{ job: [id: string, job: BaselineJob] }>({
    eventTarget: eventTarget as NonNullable<Parameters<typeof createPubSub>[0]>['eventTarget'],
  });

  const schema = createSchema({
    typeDefs,
    resolvers: {
      DateTime,
      Query: { job: (_root: unknown, { id }: { id: string }) => jobs.get(id) ?? null },
      Subscription: {
        jobUpdated: {
          // The current state, then every change (as the gateway's jobUpdated). Subscribed to
          // pub/sub before the current state is yielded, so nothing published after it is lost.
          subscribe: async function* (_root: unknown, { id }: { id: string }) {
            const events = pubsub.subscribe('job', id)[Symbol.asyncIterator]();
            let next = events.next();
            try {
              const current = jobs.get(id);
              if (!current) throw new Error(`No job ${id}`);
              yield current;
              for (;;) {
                const step = await next;
                if (step.done) return;
                yield step.value;
                next = events.next();
              }
            } finally {
              await events.return?.();
            }
          },
          resolve: (job: BaselineJob) => job,
        },
      },
    },
  });

  const yoga = createYoga({ schema, graphiql: false, logging: false });
  const httpServer: Server = createServer(yoga);
  const webSockets = new WebSocketServer({ server: httpServer, path: yoga.graphqlEndpoint });

  // Yoga's documented graphql-ws recipe: graphql-ws runs every operation through Yoga's envelop.
  type Enveloped = ReturnType<typeof yoga.getEnveloped>;
  const wsServer = useServer(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    webSockets,
  );

  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${yoga.graphqlEndpoint}`,
    jobs,
    publish(job) {
      jobs.set(job.id, job);
      pubsub.publish('job', job.id, job);
    },
    async close() {
      await wsServer.dispose();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

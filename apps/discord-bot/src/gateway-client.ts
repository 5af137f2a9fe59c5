/**
 * The bot's only peer: the zimage gateway's GraphQL API. Queries and mutations go over HTTP,
 * job progress over graphql-ws. Every call authenticates with the bot's act-as key; calls made
 * for a Discord user name that user as `endUserId`, so the gateway applies its budgets and
 * limits per user.
 */
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';

export type Model = 'Z_IMAGE_TURBO' | 'Z_IMAGE_BASE';
export type ImageSize =
  | 'SQUARE_1_1'
  | 'PORTRAIT_3_4'
  | 'LANDSCAPE_4_3'
  | 'PORTRAIT_9_16'
  | 'LANDSCAPE_16_9';
export type OutputFormat = 'PNG' | 'JPEG' | 'WEBP';
export type Acceleration = 'NONE' | 'REGULAR' | 'FAST' | 'ULTRA_FAST';
export type JobStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'ERROR' | 'CANCELLED';

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  'COMPLETED',
  'FAILED',
  'ERROR',
  'CANCELLED',
]);

export interface ModelInfo {
  id: Model;
  name: string;
  priceUsdPerImage: number;
  defaultSteps: number;
  minSteps: number;
  maxSteps: number;
  supportsGuidanceScale: boolean;
  /** null when the model has no guidance scale. */
  minGuidanceScale: number | null;
  maxGuidanceScale: number | null;
  maxImages: number;
}

export interface GatewayImage {
  url: string;
  width: number;
  height: number;
  contentType: string;
}

export interface GatewayJob {
  id: string;
  model: Model;
  prompt: string;
  imageSize: ImageSize;
  numInferenceSteps: number;
  guidanceScale: number | null;
  numImages: number;
  enableSafetyChecker: boolean;
  outputFormat: OutputFormat;
  acceleration: Acceleration;
  status: JobStatus;
  queuePosition: number | null;
  images: GatewayImage[];
  error: string | null;
  costUsd: number;
  endUserId: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface GenerateImageInput {
  model: Model;
  prompt: string;
  imageSize: ImageSize;
  numInferenceSteps?: number;
  guidanceScale?: number;
  numImages: number;
  enableSafetyChecker: boolean;
  outputFormat: OutputFormat;
  idempotencyKey: string;
  endUserId: string;
}

export interface Usage {
  spentTodayUsd: number;
  dailyBudgetUsd: number | null;
  jobsInFlight: number;
  maxConcurrentJobs: number | null;
}

/** The contract's error codes (`extensions.code`). */
const CONTRACT_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'INSUFFICIENT_BALANCE',
  'UPSTREAM_UNAVAILABLE',
] as const;

/** A contract code, UNREACHABLE when no answer came back at all, or INTERNAL for anything else. */
export type GatewayErrorCode = (typeof CONTRACT_CODES)[number] | 'UNREACHABLE' | 'INTERNAL';

const KNOWN_CODES: ReadonlySet<string> = new Set(CONTRACT_CODES);

export class GatewayRequestError extends Error {
  override name = 'GatewayRequestError';
  readonly code: GatewayErrorCode;
  /** BAD_USER_INPUT: the input field at fault. */
  readonly field: string | undefined;
  /** RATE_LIMITED: when to try again. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: GatewayErrorCode,
    message: string,
    details: { field?: string | undefined; retryAfterSeconds?: number | undefined } = {},
  ) {
    super(message);
    this.code = code;
    this.field = details.field;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

interface GraphQLErrorBody {
  message?: string;
  extensions?: { code?: unknown; field?: unknown; retryAfterSeconds?: unknown };
}

function toGatewayError(error: GraphQLErrorBody | undefined): GatewayRequestError {
  const extensions = error?.extensions ?? {};
  const code = typeof extensions.code === 'string' ? extensions.code : '';
  return new GatewayRequestError(
    KNOWN_CODES.has(code) ? (code as GatewayErrorCode) : 'INTERNAL',
    error?.message ?? 'The gateway answered with an error',
    {
      field: typeof extensions.field === 'string' ? extensions.field : undefined,
      retryAfterSeconds:
        typeof extensions.retryAfterSeconds === 'number' ? extensions.retryAfterSeconds : undefined,
    },
  );
}

/** The gateway's graphql-ws close codes for a refused key (other closes are worth a retry). */
const CLOSE_CODES: Record<number, GatewayErrorCode> = {
  4401: 'UNAUTHENTICATED',
  4403: 'FORBIDDEN',
};

/**
 * What ended a subscription, when retrying cannot help: an error the gateway sent (graphql-ws
 * hands those over as an array) or a close saying the key was refused. null: try again.
 */
function subscriptionFailure(error: unknown): GatewayRequestError | null {
  const failure =
    error instanceof GatewayRequestError
      ? error
      : Array.isArray(error)
        ? toGatewayError(error[0] as GraphQLErrorBody)
        : null;
  if (failure) return failure.code === 'UPSTREAM_UNAVAILABLE' ? null : failure;
  const code = (error as { code?: unknown } | null)?.code;
  const refused = typeof code === 'number' ? CLOSE_CODES[code] : undefined;
  return refused ? new GatewayRequestError(refused, `Subscription closed with ${code}`) : null;
}

const JOB_FIELDS = `
  id model prompt imageSize numInferenceSteps guidanceScale numImages enableSafetyChecker
  outputFormat acceleration status queuePosition error costUsd endUserId
  createdAt startedAt completedAt
  images { url width height contentType }
`;

export interface GatewayClientOptions {
  /** The gateway's base URL (GraphQL at `/graphql`). */
  url: string;
  apiKey: string;
  /** Per HTTP request; the gateway answers mutations once the job is persisted, not when done. */
  requestTimeoutMs?: number;
  /** How long the models list is reused before asking again. */
  modelsTtlMs?: number;
  now?: () => number;
}

export class GatewayClient {
  readonly #baseUrl: string;
  readonly #graphqlUrl: string;
  readonly #authorization: string;
  readonly #requestTimeoutMs: number;
  readonly #modelsTtlMs: number;
  readonly #now: () => number;
  #ws: WsClient | undefined;
  #models: { value: ModelInfo[]; fetchedAt: number } | undefined;

  constructor(options: GatewayClientOptions) {
    this.#baseUrl = options.url.replace(/\/+$/, '');
    this.#graphqlUrl = `${this.#baseUrl}/graphql`;
    this.#authorization = `Bearer ${options.apiKey}`;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#modelsTtlMs = options.modelsTtlMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  async #request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.#graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: this.#authorization,
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.#requestTimeoutMs),
      });
    } catch (cause) {
      throw new GatewayRequestError('UNREACHABLE', `Gateway unreachable: ${String(cause)}`);
    }
    const body = (await response.json().catch(() => undefined)) as
      | { data?: T | null; errors?: GraphQLErrorBody[] }
      | undefined;
    if (body?.errors?.length) throw toGatewayError(body.errors[0]);
    if (!response.ok || body?.data == null) {
      throw new GatewayRequestError('INTERNAL', `Gateway answered HTTP ${response.status}`);
    }
    return body.data;
  }

  /** The models list changes with deployments, not per request, so it is reused for a while. */
  async models(): Promise<ModelInfo[]> {
    if (this.#models && this.#now() - this.#models.fetchedAt < this.#modelsTtlMs) {
      return this.#models.value;
    }
    const data = await this.#request<{ models: ModelInfo[] }>(
      `query Models {
        models {
          id name priceUsdPerImage defaultSteps minSteps maxSteps
          supportsGuidanceScale minGuidanceScale maxGuidanceScale maxImages
        }
      }`,
    );
    this.#models = { value: data.models, fetchedAt: this.#now() };
    return data.models;
  }

  /** The scopes of the bot's own key (admin implies all others). */
  async keyScopes(): Promise<string[]> {
    const data = await this.#request<{ viewer: { scopes: string[] } }>(
      'query KeyScopes { viewer { scopes } }',
    );
    return data.viewer.scopes;
  }

  async usage(endUserId: string): Promise<Usage> {
    const data = await this.#request<{ viewer: { usage: Usage } }>(
      `query Usage($endUserId: String) {
        viewer(endUserId: $endUserId) { usage { spentTodayUsd dailyBudgetUsd jobsInFlight maxConcurrentJobs } }
      }`,
      { endUserId },
    );
    return data.viewer.usage;
  }

  /** null when the job does not exist or the bot's key may not see it. */
  async job(id: string): Promise<GatewayJob | null> {
    try {
      const data = await this.#request<{ job: GatewayJob | null }>(
        `query Job($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`,
        { id },
      );
      return data.job;
    } catch (error) {
      if (error instanceof GatewayRequestError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  async generateImage(input: GenerateImageInput): Promise<GatewayJob> {
    const data = await this.#request<{ generateImage: GatewayJob }>(
      `mutation Generate($input: GenerateImageInput!) { generateImage(input: $input) { ${JOB_FIELDS} } }`,
      { input },
    );
    return data.generateImage;
  }

  /**
   * Every state of the job from now on, ending after a terminal one. `jobUpdated` sends the
   * current state first, so when the socket drops we subscribe again and lose nothing.
   */
  async *watchJob(id: string): AsyncGenerator<GatewayJob> {
    for (let failures = 0; ; failures += 1) {
      try {
        const subscription = this.#wsClient().iterate<{ jobUpdated: GatewayJob }>({
          query: `subscription Watch($id: ID!) { jobUpdated(id: $id) { ${JOB_FIELDS} } }`,
          variables: { id },
        });
        for await (const result of subscription) {
          if (result.errors?.length) throw toGatewayError(result.errors[0] as GraphQLErrorBody);
          const job = result.data?.jobUpdated;
          if (!job) continue;
          failures = 0;
          yield job;
          if (TERMINAL_STATUSES.has(job.status)) return;
        }
      } catch (error) {
        const fatal = subscriptionFailure(error);
        if (fatal) throw fatal;
      }
      // The stream ended (or the socket failed) before a terminal state: wait a little, resume.
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** failures)));
    }
  }

  /**
   * The bytes of one of the gateway's stored images. The key is sent only to the gateway's own
   * origin, never to a third-party URL a job might carry.
   */
  async fetchImage(url: string): Promise<Buffer> {
    const resolved = new URL(url, `${this.#baseUrl}/`);
    const sameOrigin = resolved.origin === new URL(this.#baseUrl).origin;
    const response = await fetch(resolved, {
      headers: sameOrigin ? { authorization: this.#authorization } : {},
      signal: AbortSignal.timeout(this.#requestTimeoutMs),
    });
    if (!response.ok) {
      throw new GatewayRequestError('INTERNAL', `Image download answered HTTP ${response.status}`);
    }
    return Buffer.from(await response.arrayBuffer());
  }

  /** An absolute URL for an image, to link to it when it cannot be attached. */
  absoluteUrl(url: string): string {
    return new URL(url, `${this.#baseUrl}/`).toString();
  }

  async close(): Promise<void> {
    await this.#ws?.dispose();
    this.#ws = undefined;
  }

  #wsClient(): WsClient {
    this.#ws ??= createClient({
      url: `${this.#graphqlUrl.replace(/^http/, 'ws')}`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: this.#authorization },
      lazy: true,
      // Idle for a while between jobs is normal; keep one socket instead of reconnecting per job.
      lazyCloseTimeout: 60_000,
      keepAlive: 20_000,
      retryAttempts: 8,
      shouldRetry: () => true,
    });
    return this.#ws;
  }
}

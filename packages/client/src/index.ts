/**
 * @zimage/client: the typed TypeScript client of the zimage gateway, for third parties and
 * the Discord bot. Runs in Node 20+ and browsers (global fetch; WebSocket from
 * globalThis or the `webSocketImpl` option).
 */
export {
  createZimageClient,
  type JobPage,
  type WaitForOptions,
  type WatchOptions,
  type ZimageClient,
  type ZimageClientOptions,
} from './client.ts';
export {
  type Acceleration,
  type GenerateInput,
  type Image,
  type ImageSize,
  type Job,
  type JobStatus,
  type JobsFilter,
  type Model,
  type ModelInfo,
  ModelsQuery,
  type OutputFormat,
  type PageInfo,
  type Usage,
  type Viewer,
} from './documents.ts';
export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  ZimageError,
  type ZimageErrorCode,
} from './errors.ts';
export type { RequestOptions } from './http-transport.ts';

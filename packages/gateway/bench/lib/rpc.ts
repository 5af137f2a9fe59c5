/**
 * Bench processes talk over Node's IPC channel: the orchestrator calls a method of a child
 * (a server under test, a load client) and awaits its answer. Structured-clone serialization,
 * so typed arrays of timestamps cross as they are.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Handler = (params: never) => unknown;
export type Handlers = Record<string, Handler>;

interface Request {
  id: number;
  method: string;
  params: unknown;
}

interface Response {
  id: number;
  result?: unknown;
  error?: string;
}

/** No bench process outlives this, whatever happens to its parent. */
const MAX_CHILD_LIFETIME_MS = 20 * 60_000;

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  call<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to exit (it closes what it opened), then kills it if it does not. */
  stop(): Promise<void>;
}

/**
 * Starts `script` (a path relative to bench/) with the Node binary running this process
 * (pnpm's Node 24) and resolves once it is ready for calls.
 */
export async function startChild(
  name: string,
  script: string,
  options: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<ChildHandle> {
  const child: ChildProcess = fork(fileURLToPath(new URL(`../${script}`, import.meta.url)), [], {
    // BENCH_NODE_ARGS adds Node flags to every bench process (e.g. --trace-gc).
    execArgv: [
      ...(options.nodeArgs ?? []),
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' '),
    ].filter(Boolean),
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...options.env },
  });
  const pending = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const { reject } of pending.values()) {
        reject(new Error(`${name} exited (${signal ?? code}) during a call`));
      }
      pending.clear();
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) at start`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      if ((message as { ready?: boolean }).ready) resolve();
      else reject(new Error(`${name} sent ${JSON.stringify(message)} instead of ready`));
    });
  });
  child.on('message', (message) => {
    const { id, result, error } = message as Response;
    const waiter = pending.get(id);
    if (!waiter) return;
    pending.delete(id);
    if (error !== undefined) waiter.reject(new Error(`${name}: ${error}`));
    else waiter.resolve(result);
  });

  return {
    name,
    pid: child.pid as number,
    call<T>(method: string, params?: unknown, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}.${method} took over ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as T);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, method, params } satisfies Request);
      });
    },
    async stop() {
      if (exited) return;
      child.send({ id: 0, method: '__exit', params: null } satisfies Request);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * The child side: answers calls with `handlers`; `__exit` (or the parent going away) runs
 * `onExit` and ends the process.
 */
export function serve(handlers: Handlers, onExit: () => Promise<void> | void = () => {}): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('a bench child must be started by the bench (no IPC channel)');
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    try {
      await onExit();
    } finally {
      process.exit(0);
    }
  };
  setTimeout(exit, MAX_CHILD_LIFETIME_MS).unref();
  process.on('disconnect', exit);
  process.on('message', async (message: Request) => {
    if (message.method === '__exit') return exit();
    const handler = handlers[message.method];
    try {
      if (!handler) throw new Error(`no method ${message.method}`);
      const result = await handler(message.params as never);
      send({ id: message.id, result } satisfies Response);
    } catch (error) {
      send({
        id: message.id,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies Response);
    }
  });
  send({ ready: true });
}

/** performance.timeOrigin + performance.now(): the same wall clock in every bench process, in ms. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

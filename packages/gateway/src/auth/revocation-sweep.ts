/**
 * Ends the live connections (graphql-ws sockets, SSE streams) of API keys revoked since they
 * opened. Every request and every new operation authenticates again through the key cache, but
 * a subscription already running would keep streaming for as long as its connection lives. So
 * one timer for all connections, every `intervalMs` (the key cache's lifetime, which is also how
 * long a revoked key may keep working elsewhere), reads from the store each key that has live
 * connections, and ends those of keys revoked or gone. The store sees one read per distinct key
 * per round, whatever the number of connections.
 */
import type { Logger } from '../domain/logger.ts';
import type { Store } from '../store/store.ts';

export interface LiveConnection {
  /** The API key the connection authenticated with. */
  readonly keyId: string;
  /** Ends the connection because its key was revoked. */
  end(): void;
}

export interface RevocationSweepOptions {
  store: Pick<Store, 'getApiKey'>;
  intervalMs: number;
  /** Every live connection at the time of the call. */
  connections: () => Iterable<LiveConnection>;
  logger: Logger;
}

export interface RevocationSweep {
  stop(): void;
}

export function startRevocationSweep(options: RevocationSweepOptions): RevocationSweep {
  const { store, intervalMs, connections, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function sweep(): Promise<void> {
    const byKey = new Map<string, LiveConnection[]>();
    for (const connection of connections()) {
      const same = byKey.get(connection.keyId);
      if (same) same.push(connection);
      else byKey.set(connection.keyId, [connection]);
    }
    for (const [keyId, live] of byKey) {
      const key = await store.getApiKey(keyId);
      if (key !== null && key.revokedAt === null) continue;
      logger.info({ keyId, connections: live.length }, 'ending the connections of a revoked key');
      for (const connection of live) connection.end();
    }
  }

  // A round starts only after the previous one ended, so a slow store never piles rounds up.
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      sweep()
        .catch((error: unknown) => logger.warn({ err: error }, 'revoked-key sweep failed'))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

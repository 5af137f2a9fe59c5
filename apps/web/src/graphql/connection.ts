/**
 * The state of the live (WebSocket) connection, as one small observable value: the header's
 * indicator reads it instead of each failure raising its own pop-up.
 */
export type ConnectionState =
  /** First connection attempt. */
  | 'connecting'
  | 'online'
  /** Lost after being online; retrying on its own. */
  | 'reconnecting'
  /** The gateway refused the API key (a close code of the contract's CLOSE_CODES); retrying would not help. */
  | 'rejected';

export interface ConnectionStatus {
  get(): ConnectionState;
  set(state: ConnectionState): void;
  subscribe(listener: () => void): () => void;
}

export function createConnectionStatus(initial: ConnectionState = 'connecting'): ConnectionStatus {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(next) {
      if (next === state) return;
      state = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

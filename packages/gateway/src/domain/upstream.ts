/**
 * Why Pixazo is taken to refuse new work, learnt from the gateway's own requests (jobs/
 * upstream-health.ts); each condition has its own cooldown, which operators may set (config.ts).
 */
export type UpstreamCondition =
  /** 402: the Pixazo wallet is empty. */
  | 'wallet_empty'
  /** 401/403: Pixazo rejects the subscription key. */
  | 'key_rejected'
  /** The connection was refused, after core's retries. */
  | 'unreachable';

/**
 * Dispatch nudges between instances over Redis: when one instance made a job dispatchable or
 * freed a place under the global cap (the job engine's `onDispatchable`), the others claim at
 * once instead of at their next dispatch poll. One channel, `<keyPrefix>dispatch`, on the
 * instance's RedisChannels (its one subscriber connection); the payload is the sender's
 * instance id, so an instance ignores its own nudges (it already dispatched).
 *
 * A nudge is only a hint: one lost (Redis down, a publish that fails) costs at most a poll
 * interval, so failures are logged at debug and never retried; after a gap the listener
 * nudges itself, since it may have missed one.
 */
import type { Logger } from '../domain/logger.ts';
import type { RedisChannels } from './redis-channels.ts';

export const DISPATCH_CHANNEL = 'dispatch';

export interface DispatchNudges {
  /** Tells the other instances to claim now. A burst sends at most one more after the one in flight. */
  send(): void;
  /** Stops listening. */
  close(): void;
}

export interface DispatchNudgesOptions {
  channels: Pick<RedisChannels, 'listen' | 'publish'>;
  /** This instance's id: its own nudges come back to it and are ignored. */
  instanceId: string;
  /** Claims now (the engine's `nudge()`). */
  onNudge: () => void;
  logger?: Logger | undefined;
}

/** Resolves once listening is live. */
export async function openDispatchNudges(options: DispatchNudgesOptions): Promise<DispatchNudges> {
  const { channels, instanceId, onNudge, logger } = options;
  const unlisten = await channels.listen(DISPATCH_CHANNEL, {
    message(sender) {
      if (sender !== instanceId) onNudge();
    },
    gap: () => onNudge(),
  });

  let sending = false;
  let again = false;
  let closed = false;
  const send = () => {
    if (closed) return;
    // Whatever a burst made dispatchable was committed before the next publish leaves.
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    channels
      .publish(DISPATCH_CHANNEL, instanceId)
      .catch((error: unknown) => logger?.debug({ err: error }, 'dispatch nudge not sent'))
      .finally(() => {
        sending = false;
        if (again) {
          again = false;
          send();
        }
      });
  };

  return {
    send,
    close() {
      closed = true;
      unlisten();
    },
  };
}

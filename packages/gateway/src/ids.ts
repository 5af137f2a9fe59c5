/**
 * Identifiers of stored things: `<kind>_<uuidv7 as 32 hex digits>`. UUIDv7 (RFC 9562) starts
 * with 48 bits of Unix milliseconds, so ids sort by creation time: the stores page jobs
 * newest-first by id alone (`id < cursor`), with no separate created-at tiebreak.
 */
import { randomBytes } from 'node:crypto';

/** Jobs, API keys, gateway instances (one per engine run; see job-engine.ts), audit entries. */
export type IdKind = 'job' | 'key' | 'inst' | 'audit';

/** 12-bit counter in the `rand_a` field (RFC 9562 §6.2 method 1) for ids within one millisecond. */
const SEQUENCE_MAX = 0xfff;
let lastMs = -1;
let sequence = 0;

/**
 * A new id, strictly greater than every earlier id from this process: within one millisecond
 * the counter keeps creation order (random alone would not), and a counter overflow borrows
 * the next millisecond.
 */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  if (nowMs > lastMs) {
    lastMs = nowMs;
    // A random start, below half the range, keeps ids unguessable yet leaves room to count up.
    sequence = randomBytes(2).readUInt16BE(0) & 0x7ff;
  } else if (sequence < SEQUENCE_MAX) {
    sequence += 1;
  } else {
    lastMs += 1;
    sequence = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  return `${kind}_${bytes.toString('hex')}`;
}

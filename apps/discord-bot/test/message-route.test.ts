import { describe, expect, it } from 'vitest';
import { messageRoute } from '../src/message-route.ts';

describe('messageRoute', () => {
  it('uses the interaction token for its first 14 minutes, the channel afterwards', () => {
    const created = Date.parse('2026-01-01T12:00:00Z');
    expect(messageRoute(created, created + 13 * 60_000)).toBe('interaction');
    expect(messageRoute(created, created + 14 * 60_000)).toBe('channel');
    expect(messageRoute(created, created + 60 * 60_000)).toBe('channel');
  });
});

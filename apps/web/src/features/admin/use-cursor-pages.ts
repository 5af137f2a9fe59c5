/**
 * One page of a newest-first list on screen at a time, moved by cursor: "older" follows the
 * page's endCursor, "newer" goes back. One page is one query, so when the cache drops what a
 * page shows, one refetch renews all of it.
 */
import { useCallback, useState } from 'react';

export function useCursorPages() {
  // The cursors that led here; the last one is this page's `after`.
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const showOlder = useCallback(
    (endCursor: string) => setCursors((current) => [...current, endCursor]),
    [],
  );
  const showNewer = useCallback(() => setCursors((current) => current.slice(0, -1)), []);
  return {
    after: cursors.at(-1) ?? null,
    /** 1 for the newest page. */
    page: cursors.length + 1,
    hasNewer: cursors.length > 0,
    showOlder,
    showNewer,
  };
}

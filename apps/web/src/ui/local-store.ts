/**
 * Small preferences kept in localStorage as JSON (the form draft, recent prompts, presets, the
 * history view, notifications). Never the API key: that has its own storage
 * (features/auth/api-key-storage.ts) and nothing here stores it again. Storage can be disabled
 * or full (privacy modes, quotas): a value then lasts for this page only.
 */
const PREFIX = 'zimage.';

export function readStored<T>(
  name: string,
  check: (value: unknown) => T | undefined,
): T | undefined {
  try {
    const text = window.localStorage.getItem(PREFIX + name);
    return text === null ? undefined : check(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export function writeStored(name: string, value: unknown): void {
  try {
    if (value === undefined) window.localStorage.removeItem(PREFIX + name);
    else window.localStorage.setItem(PREFIX + name, JSON.stringify(value));
  } catch {
    // See the module's comment.
  }
}

/**
 * Where the API key lives in the browser: localStorage, so it survives reloads and new tabs of
 * the same dashboard. A `#key=…` link (printed by the gateway, shared by an operator) hands a
 * key over once; it is removed from the address bar at once so it does not linger in history
 * or get copied along with the URL.
 */
const STORAGE_KEY = 'zimage.apiKey';

export function readStoredKey(storage: Storage = window.localStorage): string | null {
  try {
    return storage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled (privacy modes): the key then lasts for this page only.
    return null;
  }
}

export function storeKey(key: string | null, storage: Storage = window.localStorage): void {
  try {
    if (key === null) storage.removeItem(STORAGE_KEY);
    else storage.setItem(STORAGE_KEY, key);
  } catch {
    // See readStoredKey.
  }
}

/** Takes the key out of a `#key=` fragment, if any, and clears the fragment from the URL. */
export function takeKeyFromFragment(location: Location = window.location): string | null {
  if (!location.hash.startsWith('#')) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get('key')?.trim();
  if (!key) return null;
  params.delete('key');
  const rest = params.toString();
  window.history.replaceState(
    window.history.state,
    '',
    `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`,
  );
  return key;
}

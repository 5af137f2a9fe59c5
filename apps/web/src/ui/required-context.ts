/**
 * A context only its provider's subtree may read: its hook throws anywhere else, so a missing
 * provider fails at once and by name rather than as a null deep inside a view.
 */
import { type Context, createContext, useContext } from 'react';

export function createRequiredContext<T>(name: string): [Context<T | null>, () => T] {
  const RequiredContext = createContext<T | null>(null);
  RequiredContext.displayName = name;
  function useRequiredContext(): T {
    const value = useContext(RequiredContext);
    if (value === null) throw new Error(`use${name} outside ${name}Provider`);
    return value;
  }
  return [RequiredContext, useRequiredContext];
}

/**
 * One polite live region for the whole dashboard. Status changes, connection changes and
 * results of actions are spoken from here, so screen-reader users hear what sighted users see
 * change, without focus moving.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';

type Announce = (message: string) => void;

const AnnouncerContext = createContext<Announce>(() => {});

/** How many recent messages stay in the region (older ones have been read). */
const KEPT_MESSAGES = 5;

export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [messages, setMessages] = useState<{ id: number; text: string }[]>([]);
  const announce = useCallback<Announce>((text) => {
    // Each message is a new node, so repeating the same words is announced again.
    setMessages((current) => [
      ...current.slice(-(KEPT_MESSAGES - 1)),
      { id: (current.at(-1)?.id ?? 0) + 1, text },
    ]);
  }, []);
  const value = useMemo(() => announce, [announce]);
  return (
    <AnnouncerContext.Provider value={value}>
      {children}
      <div className="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
        {messages.map((message) => (
          <p key={message.id}>{message.text}</p>
        ))}
      </div>
    </AnnouncerContext.Provider>
  );
}

export const useAnnounce = () => useContext(AnnouncerContext);

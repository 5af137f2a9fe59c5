/**
 * One quiet indicator of the live connection instead of pop-ups: a dot and a word in the
 * header, and a spoken message when it drops or comes back.
 */
import { createContext, useContext, useEffect, useRef, useSyncExternalStore } from 'react';
import { type ConnectionStatus, createConnectionStatus } from '../graphql/connection.ts';
import { useAnnounce } from './announcer.tsx';

export const ConnectionContext = createContext<ConnectionStatus>(createConnectionStatus());

const LABELS = {
  connecting: 'Connecting…',
  online: 'Live',
  reconnecting: 'Reconnecting…',
  rejected: 'Key rejected',
} as const;

export function ConnectionIndicator() {
  const status = useContext(ConnectionContext);
  const state = useSyncExternalStore(status.subscribe, status.get);
  const announce = useAnnounce();
  const previous = useRef(state);

  useEffect(() => {
    if (previous.current === state) return;
    if (state === 'reconnecting') announce('Live updates paused: connection lost, reconnecting.');
    if (state === 'online' && previous.current === 'reconnecting') {
      announce('Live updates are back.');
    }
    previous.current = state;
  }, [state, announce]);

  return (
    <span
      className={`connection connection-${state}`}
      title={state === 'online' ? 'Receiving live updates' : undefined}
      data-state={state}
    >
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-label">{LABELS[state]}</span>
    </span>
  );
}

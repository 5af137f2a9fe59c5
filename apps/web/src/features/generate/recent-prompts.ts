/**
 * Recent prompts one keystroke away, as in a shell: ArrowUp in an empty prompt brings back the
 * last prompt submitted, and while a recalled prompt is untouched, ArrowUp and ArrowDown step
 * through the older and newer ones (ArrowDown past the newest empties the field again).
 */
import { type KeyboardEvent, useCallback, useRef, useState } from 'react';
import { readRecentPrompts, rememberPrompt } from './form-storage.ts';

export function useRecentPrompts() {
  const [recent, setRecent] = useState(readRecentPrompts);
  // Which recent prompt is in the field, -1 for none.
  const at = useRef(-1);

  const onKeyDown = (
    event: KeyboardEvent<HTMLTextAreaElement>,
    prompt: string,
    setPrompt: (prompt: string) => void,
  ) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (!(at.current >= 0 && prompt === recent[at.current])) at.current = -1;
    const recalled = at.current >= 0;
    let next: number | undefined;
    if (event.key === 'ArrowUp' && (prompt === '' || recalled)) next = at.current + 1;
    else if (event.key === 'ArrowDown' && recalled) next = at.current - 1;
    if (next === undefined || next >= recent.length) return;
    event.preventDefault();
    at.current = next;
    setPrompt(recent[next] ?? '');
  };

  const remember = useCallback((submitted: string) => {
    at.current = -1;
    setRecent(rememberPrompt(submitted));
  }, []);

  return { recent, onKeyDown, remember };
}

/**
 * An optional browser notification when a job ends, for whoever has switched to another tab.
 * Opt-in (a toggle in the Live panel, remembered here), and only once the browser granted the
 * Notification permission; while the dashboard is in view, its own cards and live region say it.
 */
import { useId, useState } from 'react';
import { readStored, writeStored } from '../../ui/local-store.ts';

const SETTING = 'notifyOnEnd';

const supported = () => typeof window !== 'undefined' && 'Notification' in window;

const permitted = () => supported() && Notification.permission === 'granted';

const wanted = () => readStored(SETTING, (value) => (value === true ? true : undefined)) === true;

/** Shows `text` as a notification if the user asked for them and is looking elsewhere. */
export function notifyJobEnded(jobId: string, text: string): void {
  if (!wanted() || !permitted() || document.visibilityState !== 'hidden') return;
  // One per job: a later state of the same job replaces its notification.
  new Notification('zimage', { body: text, tag: jobId });
}

export function NotifyToggle() {
  const id = useId();
  const [on, setOn] = useState(() => wanted() && permitted());
  const [refused, setRefused] = useState(false);
  if (!supported()) return null;

  const change = async (next: boolean) => {
    setRefused(false);
    if (next && (await Notification.requestPermission()) !== 'granted') {
      setRefused(true);
      return;
    }
    writeStored(SETTING, next || undefined);
    setOn(next);
  };

  return (
    <span className="notify-toggle">
      <label className="checkbox small" htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          checked={on}
          onChange={(event) => void change(event.target.checked)}
        />
        <span>Notify when a job ends</span>
      </label>
      {refused && (
        <span className="field-error" role="alert">
          The browser refused notifications; allow them in its site settings.
        </span>
      )}
    </span>
  );
}

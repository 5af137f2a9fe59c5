/** Which way the history is shown, rows or a grid of thumbnails, remembered in localStorage. */
import { useState } from 'react';
import { readStored, writeStored } from '../../ui/local-store.ts';

export type HistoryView = 'rows' | 'grid';

const isView = (value: unknown): HistoryView | undefined =>
  value === 'rows' || value === 'grid' ? value : undefined;

export function useHistoryView() {
  const [view, setView] = useState<HistoryView>(() => readStored('historyView', isView) ?? 'rows');
  return {
    view,
    setView: (next: HistoryView) => {
      writeStored('historyView', next);
      setView(next);
    },
  };
}

const VIEWS: readonly { value: HistoryView; label: string }[] = [
  { value: 'rows', label: 'Rows' },
  { value: 'grid', label: 'Grid' },
];

/** Two toggle buttons; the pressed one is the view on screen. */
export function HistoryViewToggle({
  view,
  onChange,
}: {
  view: HistoryView;
  onChange(view: HistoryView): void;
}) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a group of toggle buttons, not a form fieldset.
    <div className="view-toggle" role="group" aria-label="History view">
      {VIEWS.map((option) => (
        <button
          key={option.value}
          type="button"
          className="button ghost small"
          aria-pressed={view === option.value}
          onClick={() => onChange(option.value)}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}

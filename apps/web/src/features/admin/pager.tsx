/** Newer and older pages of a list; shown once there is more than one page. */
export function Pager({
  label,
  hasNewer,
  hasOlder,
  onNewer,
  onOlder,
}: {
  /** What is paged, e.g. "API keys". */
  label: string;
  hasNewer: boolean;
  hasOlder: boolean;
  onNewer(): void;
  onOlder(): void;
}) {
  if (!hasNewer && !hasOlder) return null;
  return (
    <nav className="pager" aria-label={`Pages of ${label}`}>
      <button type="button" className="button small" onClick={onNewer} disabled={!hasNewer}>
        Newer
      </button>
      <button type="button" className="button small" onClick={onOlder} disabled={!hasOlder}>
        Older
      </button>
    </nav>
  );
}

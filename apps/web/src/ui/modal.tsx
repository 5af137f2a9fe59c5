/**
 * A native modal <dialog>, opened on mount: focus trapping, Escape and the backdrop come with
 * it. Closing the element (not just unmounting it) gives the focus back to what opened it; its
 * `close` event then tells the owner, which unmounts it.
 */
import { type MouseEvent, type ReactNode, useCallback, useEffect, useRef } from 'react';

export function Modal({
  className,
  labelledBy,
  onClose,
  children,
}: {
  className: string;
  labelledBy: string;
  onClose(): void;
  /** Gets `close`, for the dialog's own buttons. */
  children(close: () => void): ReactNode;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const close = useCallback(() => dialogRef.current?.close(), []);
  // A click on the backdrop lands on the dialog element itself.
  const closeOnBackdrop = (event: MouseEvent) => {
    if (event.target === dialogRef.current) close();
  };

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes the dialog natively; the click is the pointer equivalent.
    <dialog
      ref={dialogRef}
      className={className}
      aria-labelledby={labelledBy}
      onClose={onClose}
      onClick={closeOnBackdrop}
    >
      {children(close)}
    </dialog>
  );
}

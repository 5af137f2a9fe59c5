/**
 * The one modal dialog of the dashboard (job detail, image viewer, compare, the admin's dialogs):
 * a native modal <dialog>, opened on mount, so focus trapping, Escape and the backdrop come with
 * it. Closing the element (not just unmounting it) gives the focus back to what opened it; its
 * `close` event then tells the owner, which unmounts it.
 */
import {
  type KeyboardEvent,
  type MouseEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
} from 'react';

export function Modal({
  className,
  labelledBy,
  onClose,
  onKeyDown,
  children,
}: {
  /** Added to `modal`, which draws the box and the backdrop; the variant sets its width. */
  className: string;
  labelledBy: string;
  onClose(): void;
  onKeyDown?(event: KeyboardEvent<HTMLDialogElement>): void;
  /** Gets `close`, which closes the dialog as Escape would, for the dialog's own buttons. */
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
    <dialog
      ref={dialogRef}
      className={`modal ${className}`}
      aria-labelledby={labelledBy}
      onClose={onClose}
      onClick={closeOnBackdrop}
      onKeyDown={onKeyDown}
    >
      {children(close)}
    </dialog>
  );
}

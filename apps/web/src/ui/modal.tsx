/**
 * A native modal <dialog> (focus trapping, Escape and the backdrop for free), opened on mount.
 * Closing the element, not just unmounting it, returns focus to what opened it; its `close`
 * event then tells the owner.
 */
import { type KeyboardEvent, type MouseEvent, type ReactNode, useEffect, useRef } from 'react';

export function Modal({
  titleId,
  className,
  onClose,
  onKeyDown,
  children,
}: {
  titleId: string;
  className?: string;
  onClose(): void;
  onKeyDown?(event: KeyboardEvent<HTMLDialogElement>): void;
  /** Gets `close`, which closes the dialog as Escape would. */
  children(close: () => void): ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const close = () => ref.current?.close();
  // A click on the backdrop lands on the dialog element itself.
  const closeOnBackdrop = (event: MouseEvent) => {
    if (event.target === ref.current) close();
  };
  return (
    <dialog
      ref={ref}
      className={`modal ${className ?? ''}`}
      aria-labelledby={titleId}
      onClose={onClose}
      onClick={closeOnBackdrop}
      onKeyDown={onKeyDown}
    >
      {children(close)}
    </dialog>
  );
}

/**
 * A box that scrolls sideways (a wide table at phone width). It takes the focus, so the
 * keyboard can scroll it too, and is a named region, so what takes the focus is announced.
 */
import type { ReactNode } from 'react';

export function ScrollRegion({
  className = '',
  label,
  labelledBy,
  children,
}: {
  className?: string;
  label?: string;
  labelledBy?: string;
  children: ReactNode;
}) {
  return (
    <section
      className={`table-scroll ${className}`.trim()}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
      tabIndex={0}
      aria-label={label}
      aria-labelledby={labelledBy}
    >
      {children}
    </section>
  );
}

import { useEffect } from 'react';

export const APP_TITLE = 'zimage';

/** "(2) zimage" while two jobs run, so progress shows in the tab strip. */
export const tabTitle = (running: number) =>
  running > 0 ? `(${running}) ${APP_TITLE}` : APP_TITLE;

export function useTabTitle(running: number): void {
  useEffect(() => {
    document.title = tabTitle(running);
  }, [running]);
  useEffect(
    () => () => {
      document.title = APP_TITLE;
    },
    [],
  );
}

/**
 * Which area of the dashboard is shown: generating (the default) or, for admin keys, the admin
 * area. Kept in the URL (`?area=admin`) beside `?job=`, so it can be reloaded, linked and left
 * with the browser's Back button.
 */
import { type MouseEvent, useCallback, useEffect, useState } from 'react';

export const AREAS = ['generate', 'admin'] as const;
export type Area = (typeof AREAS)[number];

const PARAM = 'area';

const readArea = (): Area =>
  new URL(window.location.href).searchParams.get(PARAM) === 'admin' ? 'admin' : 'generate';

export function hrefOfArea(area: Area): string {
  const url = new URL(window.location.href);
  if (area === 'admin') url.searchParams.set(PARAM, area);
  else url.searchParams.delete(PARAM);
  return `${url.pathname}${url.search}${url.hash}`;
}

export function useArea() {
  const [area, setArea] = useState(readArea);

  useEffect(() => {
    const onPopState = () => setArea(readArea());
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  /** A link's click handler: moves in the page; modified clicks (new tab) keep their default. */
  const followLink = useCallback((event: MouseEvent<HTMLAnchorElement>, to: Area) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    window.history.pushState(null, '', hrefOfArea(to));
    setArea(to);
  }, []);

  return { area, followLink };
}

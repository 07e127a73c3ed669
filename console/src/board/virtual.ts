import type { RefObject } from 'preact';
import { useLayoutEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';

/**
 * A @tanstack/virtual-core list bound to a Preact component (what @tanstack/react-virtual does for
 * React): only the lines in view (and a few around) are rendered. Every line is `size` pixels tall,
 * so nothing is measured.
 */
export function useVirtualList(count: number, size: number, scrollRef: RefObject<HTMLElement | null>) {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  // Stable while the size is: a new function would make the virtualizer recompute every line's place.
  const estimateSize = useMemo(() => () => size, [size]);
  const options = {
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize,
    overscan: 8,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    onChange: () => rerender(0),
  };
  const [virtualizer] = useState(() => new Virtualizer<HTMLElement, HTMLElement>(options));
  virtualizer.setOptions({ ...virtualizer.options, ...options });
  useLayoutEffect(() => virtualizer._didMount(), []);
  useLayoutEffect(() => virtualizer._willUpdate());
  return virtualizer;
}

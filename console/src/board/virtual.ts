import type { RefObject } from 'preact';
import { useLayoutEffect, useMemo, useReducer, useState } from 'preact/hooks';
import {
  defaultRangeExtractor,
  elementScroll,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
  type Range,
} from '@tanstack/virtual-core';

/**
 * A @tanstack/virtual-core list bound to a Preact component (what @tanstack/react-virtual does for
 * React): only the lines in view (and a few around) are rendered. Every line is `size` pixels tall,
 * so nothing is measured. Line `keep` stays rendered even out of view: the focused row must not
 * leave the DOM (and take the keyboard focus with it) when a storm pushes it down.
 */
export function useVirtualList(count: number, size: number, scrollRef: RefObject<HTMLElement | null>, keep = -1) {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  // Stable while the size is: a new function would make the virtualizer recompute every line's place.
  const estimateSize = useMemo(() => () => size, [size]);
  const rangeExtractor = useMemo(
    () => (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      return keep < 0 || keep >= range.count || indexes.includes(keep) ? indexes : [...indexes, keep].sort((a, b) => a - b);
    },
    [keep],
  );
  const options = {
    count,
    rangeExtractor,
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

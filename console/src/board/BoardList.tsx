import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BoardLine } from './groups';
import { board } from './live';
import { BoardRow } from './BoardRow';
import { GroupRow } from './GroupRow';
import { useVirtualList } from './virtual';

type Props = { lines: readonly BoardLine[]; shown: number; wall: boolean; loading: boolean };

const COLUMNS = ['Severity', 'Status', 'Summary', 'Service', 'Site', 'Age', 'Step', 'Paged', 'Acked by'];

/**
 * The board's alerts as a virtualised table: 10,000 lines cost the DOM of the forty on screen.
 * Arrow keys, Page Up/Down, Home and End move between rows (scrolling rows into existence), Enter
 * opens one; Tab leaves the list from any row. On a wall screen
 * the list pages down by itself every 10 s and wraps to the top.
 */
export function BoardList({ lines, shown, wall, loading }: Props) {
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const size = wall ? 58 : 36;
  // One row in the tab order (the last focused, else the first on screen); arrows move between rows.
  // Kept by alert id: new alerts above it move it down the list.
  const [activeId, setActiveId] = useState<string | null>(null);
  const active = useMemo(
    () => (activeId === null ? -1 : lines.findIndex((l) => l.kind === 'alert' && l.id === activeId)),
    [lines, activeId],
  );
  const v = useVirtualList(lines.length, size, scrollRef, active);
  const items = v.getVirtualItems();
  const tabbable = active >= 0 ? active : (items.find((i) => lines[i.index]?.kind === 'alert')?.index ?? -1);

  // The focused row moved (alerts arrived above it): scroll with it, so the keyboard user keeps their place.
  useLayoutEffect(() => {
    const focused = document.activeElement;
    if (active < 0 || !(focused instanceof HTMLElement) || focused.dataset.alertId !== activeId) return;
    const range = v.range;
    if (range && (active < range.startIndex || active > range.endIndex)) v.scrollToIndex(active, { align: 'auto' });
  }, [lines]);
  const onFocusRow = (index: number) => {
    const line = lines[index];
    if (line?.kind === 'alert') setActiveId(line.id);
  };

  useEffect(() => {
    if (!wall) return;
    const t = setInterval(() => {
      const el = scrollRef.current;
      if (!el) return;
      const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
      el.scrollTo({ top: atEnd ? 0 : el.scrollTop + el.clientHeight - size, behavior: 'smooth' });
    }, 10_000);
    return () => clearInterval(t);
  }, [wall, size]);

  const focusLine = (index: number) => {
    const i = Math.max(0, Math.min(lines.length - 1, index));
    v.scrollToIndex(i, { align: 'auto' });
    // The row may only exist after the virtualizer rendered it.
    requestAnimationFrame(() => scrollRef.current?.querySelector<HTMLElement>(`[data-index="${i}"]`)?.focus());
  };
  const onKey = (e: KeyboardEvent, index: number) => {
    const step = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 }[e.key];
    let target = step === undefined ? undefined : index + step;
    if (e.key === 'Home') target = 0;
    if (e.key === 'End') target = lines.length - 1;
    if (target === undefined) return;
    e.preventDefault();
    // Skip group headings: they are not focusable.
    const dir = step !== undefined && step < 0 ? -1 : 1;
    while (lines[target]?.kind === 'group') target += dir;
    if (lines[target]) focusLine(target);
  };

  return (
    <div class="board-table" role="table" aria-label="Open alerts" aria-rowcount={lines.length + 1} data-shown={shown}>
      <div role="rowgroup" class="board-head">
        <div role="row" class="row head-row" aria-rowindex={1}>
          {COLUMNS.map((c) => (
            <span role="columnheader" key={c} class={`c-${c.toLowerCase().split(' ')[0]}`}>
              {c}
            </span>
          ))}
        </div>
      </div>
      <div class="board-scroll" ref={scrollRef} role="rowgroup">
        {lines.length === 0 && <p class="empty">{loading ? 'Loading the board…' : 'No open alerts match this view.'}</p>}
        <div class="board-space" style={{ height: `${v.getTotalSize()}px` }}>
          {items.map((item) => {
            const line = lines[item.index];
            if (!line) return null;
            if (line.kind === 'group')
              return (
                <GroupRow
                  key={`g:${line.key}`}
                  label={line.label}
                  total={line.total}
                  bySeverity={line.bySeverity}
                  index={item.index}
                  top={item.start}
                />
              );
            const alert = board.rows.get(line.id);
            return alert ? (
              <BoardRow
                key={line.id}
                alert={alert}
                index={item.index}
                top={item.start}
                tabbable={item.index === tabbable}
                onFocus={onFocusRow}
                onKey={onKey}
              />
            ) : null;
          })}
        </div>
      </div>
    </div>
  );
}

import { useComputed } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { BoardList } from '../board/BoardList';
import { FilterBar } from '../board/FilterBar';
import { matches, parseView, SEVERITIES, viewQuery } from '../board/filters';
import { layoutBoard } from '../board/groups';
import { board, liveError, liveState, startLive } from '../board/live';
import { NewAlerts } from '../board/NewAlerts';
import { location } from '../router';

/**
 * The live board: every open alert, filtered and grouped as the URL says. The layout is computed
 * again only when the board's structure or the URL changes; a row's own changes re-render the row.
 */
export function BoardPage() {
  useEffect(startLive, []);
  const view = useComputed(() => parseView(location.value.query));
  const layout = useComputed(() => {
    void board.structure.value;
    const v = view.value;
    const shown = [];
    // peek: the layout must not depend on every row's signal, only on `structure`.
    for (const row of board.rows.values()) {
      const a = row.peek();
      if (matches(a, v)) shown.push(a);
    }
    return layoutBoard(shown, v.group);
  });
  const v = view.value;
  const l = layout.value;
  const state = liveState.value;

  return (
    <section class={`board ${v.wall ? 'wall' : ''}`} aria-labelledby="board-title">
      <header class="board-bar">
        <h1 id="board-title">Alert board</h1>
        <p class="totals" data-testid="totals">
          <span class="shown">
            {l.shown} shown of {board.rows.size} open
          </span>
          {SEVERITIES.filter((s) => l.bySeverity[s]).map((s) => (
            <span key={s} class={`count sev-${s}`}>
              {l.bySeverity[s]} {s}
            </span>
          ))}
        </p>
        <p class={`live live-${state}`} role="status" data-live={state}>
          {state === 'live'
            ? '● live'
            : state === 'loading'
              ? 'loading…'
              : state === 'failed'
                ? `not live: ${liveError.value}`
                : 'reconnecting…'}
        </p>
        <NewAlerts />
        {v.wall && (
          <a class="wall-exit" href={`/${viewQuery({ ...v, wall: false })}`}>
            Leave wall screen
          </a>
        )}
      </header>
      {!v.wall && <FilterBar view={v} />}
      <BoardList lines={l.lines} shown={l.shown} wall={v.wall} loading={state === 'loading' || state === 'idle'} />
    </section>
  );
}

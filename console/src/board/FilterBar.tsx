import { useEffect, useState } from 'preact/hooks';
import { navigate } from '../router';
import { filterText, GROUPINGS, OPEN_STATUSES, parseFilterText, SEVERITIES, viewQuery, type BoardView } from './filters';

/** Writes a changed view into the URL (replacing: typing a filter should not make 20 Back steps). */
const apply = (view: BoardView) => navigate(`/${viewQuery(view)}`, { replace: true });

const toggle = (list: readonly string[], value: string, on: boolean): string[] =>
  on ? [...new Set([...list, value])] : list.filter((v) => v !== value);

/** The board's filters: any label as `key=value`, free text, status, severity, grouping. */
export function FilterBar({ view }: { view: BoardView }) {
  const [text, setText] = useState(filterText(view));
  // A link or Back changed the URL: show its filter.
  useEffect(() => setText(filterText(view)), [filterText(view)]);
  useEffect(() => {
    if (text === filterText(view)) return;
    const t = setTimeout(() => apply({ ...view, ...parseFilterText(text) }), 250);
    return () => clearTimeout(t);
  }, [text]);

  return (
    <form
      class="filters"
      role="search"
      aria-label="Filter the board"
      onSubmit={(e) => (e.preventDefault(), apply({ ...view, ...parseFilterText(text) }))}
    >
      <label class="filter-text">
        <span>Filter</span>
        <input
          type="search"
          name="filter"
          value={text}
          placeholder="site=ams2 tier=enterprise disk full"
          aria-describedby="filter-help"
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <span id="filter-help" class="sr-only">
        Words like site=ams2 filter by a label (commas for any of several values); other words search the summary.
      </span>
      <fieldset>
        <legend>Status</legend>
        {OPEN_STATUSES.map((s) => (
          <label key={s} class="check">
            <input
              type="checkbox"
              name="status"
              value={s}
              checked={view.statuses.includes(s)}
              onChange={(e) => apply({ ...view, statuses: toggle(view.statuses, s, e.currentTarget.checked) })}
            />
            {s}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Severity</legend>
        {SEVERITIES.map((s) => (
          <label key={s} class={`check sev-text-${s}`}>
            <input
              type="checkbox"
              name="severity"
              value={s}
              checked={view.severities.includes(s)}
              onChange={(e) => apply({ ...view, severities: toggle(view.severities, s, e.currentTarget.checked) })}
            />
            {s}
          </label>
        ))}
      </fieldset>
      <label>
        <span>Group by</span>
        <select name="group" value={view.group} onChange={(e) => apply({ ...view, group: e.currentTarget.value as BoardView['group'] })}>
          {GROUPINGS.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
      </label>
      <a class="wall-link" href={`/${viewQuery({ ...view, wall: true })}`}>
        Wall screen
      </a>
    </form>
  );
}

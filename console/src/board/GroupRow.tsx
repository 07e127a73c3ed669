import { SEVERITIES } from './filters';

type Props = { label: string; total: number; bySeverity: Readonly<Record<string, number>>; index: number; top: number };

/** A group's heading line on the board: its name, how many alerts, how many of each severity. */
export function GroupRow({ label, total, bySeverity, index, top }: Props) {
  return (
    <div role="row" class="row group-row" style={{ transform: `translateY(${top}px)` }} data-group={label} aria-rowindex={index + 2}>
      <span role="rowheader" class="group-name">
        {label} <span class="group-total">{total}</span>
      </span>
      <span role="cell" class="group-counts">
        {SEVERITIES.filter((s) => bySeverity[s]).map((s) => (
          <span key={s} class={`count sev-${s}`}>
            {bySeverity[s]} {s}
          </span>
        ))}
      </span>
    </div>
  );
}

import type { Signal } from '@preact/signals';
import type { BoardAlert } from '@oncall/contracts/console-api';
import { navigate } from '../router';
import { formatAge, now } from '../time';

/** The badges of an alert, as words (a screen reader reads them; colour is never the only cue). */
export function badges(a: BoardAlert): string[] {
  const out: string[] = [];
  if (a.incidentId) out.push('incident');
  if (a.inhibited) out.push('inhibited');
  if (a.flapping) out.push('flapping');
  if (a.status === 'snoozed') out.push('snoozed');
  if (a.repeatCount > 1) out.push(`×${a.repeatCount}`);
  return out;
}

/** Ticks once a second on its own, so the rest of the row does not re-render with the clock. */
function Age({ since }: { since: string }) {
  return <>{formatAge(now.value - Date.parse(since))}</>;
}

type Props = {
  alert: Signal<BoardAlert>;
  index: number;
  top: number;
  /** The one row of the list in the tab order. */
  tabbable: boolean;
  onFocus: (index: number) => void;
  onKey: (e: KeyboardEvent, index: number) => void;
};

/**
 * One alert on the board. It reads its own signal, so a delta for this alert re-renders this row
 * and nothing else. Enter or a click opens the alert page.
 */
export function BoardRow({ alert, index, top, tabbable, onFocus, onKey }: Props) {
  const a = alert.value;
  const open = () => navigate(`/alerts/${encodeURIComponent(a.id)}`);
  const label = `${a.severity} ${a.status}: ${a.summary}`;
  return (
    <div
      role="row"
      class={`row sev-${a.severity} st-${a.status}`}
      style={{ transform: `translateY(${top}px)` }}
      data-alert-id={a.id}
      data-index={index}
      data-status={a.status}
      aria-rowindex={index + 2}
      aria-label={label}
      tabIndex={tabbable ? 0 : -1}
      onFocus={() => onFocus(index)}
      onClick={open}
      onKeyDown={(e) => (e.key === 'Enter' ? open() : onKey(e, index))}
    >
      <span role="cell" class="c-sev">
        <span class="sev-chip">{a.severity}</span>
      </span>
      <span role="cell" class="c-status">
        {a.status}
      </span>
      <span role="cell" class="c-summary">
        <a href={`/alerts/${encodeURIComponent(a.id)}`} tabIndex={-1} class="summary">
          {a.summary}
        </a>
        {badges(a).map((b) => (
          <span key={b} class={`badge b-${b.startsWith('×') ? 'repeat' : b}`}>
            {b}
          </span>
        ))}
      </span>
      <span role="cell" class="c-service">
        {a.serviceId}
      </span>
      <span role="cell" class="c-site">
        {a.site ?? a.labels.site ?? ''}
      </span>
      <span role="cell" class="c-age">
        <Age since={a.createdAt} />
      </span>
      <span role="cell" class="c-step">
        {a.step === null ? '—' : a.step + 1}
      </span>
      <span role="cell" class="c-paged">
        {a.paged.join(', ')}
      </span>
      <span role="cell" class="c-acked">
        {a.acknowledgedBy ?? ''}
      </span>
    </div>
  );
}

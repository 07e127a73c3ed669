import type { OnCallSegment, ScheduleTimeline } from '@oncall/contracts/console-api';
import { formatDay, formatTime } from '../time';
import { midnights } from '../zones';

/** A steady colour per user, so one person's shifts read as one colour across rows. */
const hue = (userId: string): number => {
  let h = 0;
  for (const c of userId) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
};

type Span = { from: number; to: number };
const pct = (t: number, span: Span) => ((Math.min(Math.max(t, span.from), span.to) - span.from) / (span.to - span.from)) * 100;

function Row({
  name,
  kind,
  segments,
  span,
  zone,
  onPick,
}: {
  name: string;
  kind: string;
  segments: readonly OnCallSegment[];
  span: Span;
  zone: string;
  onPick?: (s: OnCallSegment) => void;
}) {
  return (
    <div class={`oc-row oc-${kind}`} data-row={kind}>
      <span class="oc-name">{name}</span>
      <ul class="oc-track" aria-label={`${name}: ${segments.length} shift${segments.length === 1 ? '' : 's'}`}>
        {segments.map((s) => {
          const left = pct(Date.parse(s.start), span);
          const width = pct(Date.parse(s.end), span) - left;
          const what =
            s.kind === 'replace' && s.replaces
              ? ` instead of ${s.replaces}`
              : s.kind === 'remove'
                ? ' off call'
                : s.kind === 'add'
                  ? ' added'
                  : '';
          const text = `${s.userName}${what}: ${formatTime(s.start, zone)} to ${formatTime(s.end, zone)}`;
          return (
            <li
              key={`${s.userId}:${s.start}`}
              class={`seg ${s.kind ? `ov-${s.kind}` : ''}`}
              style={{ left: `${left}%`, width: `${width}%`, '--hue': hue(s.userId) }}
              data-user-id={s.userId}
              data-start={s.start}
              data-end={s.end}
              title={text}
            >
              {onPick ? (
                <button type="button" class="seg-btn" aria-label={`${text}. Override this shift`} onClick={() => onPick(s)}>
                  {s.userName}
                </button>
              ) : (
                <span aria-label={text}>
                  {s.userName}
                  {what}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/**
 * One schedule's next days as a picture: a row per layer (rotation), the overrides, and the final
 * on-call (what GetOnCallUsers answers), handoffs marked on the final row, day ticks and the time
 * labels in `zone`. Picking a final shift pre-fills the override form.
 */
export function ScheduleChart({
  schedule,
  from,
  to,
  at,
  zone,
  onPick,
}: {
  schedule: ScheduleTimeline;
  from: string;
  to: string;
  at: string;
  zone: string;
  onPick: (s: OnCallSegment) => void;
}) {
  const span = { from: Date.parse(from), to: Date.parse(to) };
  const days = midnights(span.from, span.to, zone);
  return (
    <div class="oc-chart" data-schedule-id={schedule.id}>
      <div class="oc-axis" aria-hidden="true">
        <span class="oc-name" />
        <div class="oc-track">
          {days.map((d) => (
            <span key={d} class="oc-day" style={{ left: `${pct(d, span)}%` }}>
              {formatDay(d, zone)}
            </span>
          ))}
        </div>
      </div>
      <div class="oc-body">
        <div class="oc-grid" aria-hidden="true">
          {days.map((d) => (
            <span key={d} class="oc-gridline" style={{ left: `${pct(d, span)}%` }} />
          ))}
          <span class="oc-now" style={{ left: `${pct(Date.parse(at), span)}%` }} title={`now: ${formatTime(at, zone)}`} />
        </div>
        {schedule.layers.map((l) => (
          <Row key={l.id} name={l.name} kind="layer" segments={l.segments} span={span} zone={zone} />
        ))}
        <Row name="Overrides" kind="overrides" segments={schedule.overrides} span={span} zone={zone} />
        <Row name="Final" kind="final" segments={schedule.final} span={span} zone={zone} onPick={onPick} />
        <div class="oc-row oc-handoffs" data-row="handoffs">
          <span class="oc-name">Handoffs</span>
          <ul class="oc-track" aria-label={`${schedule.handoffs.length} handoffs`}>
            {schedule.handoffs.map((h) => (
              <li
                key={h}
                class="handoff"
                style={{ left: `${pct(Date.parse(h), span)}%` }}
                data-at={h}
                title={`handoff ${formatTime(h, zone)}`}
              >
                <span class="sr-only">handoff {formatTime(h, zone)}</span>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </div>
  );
}

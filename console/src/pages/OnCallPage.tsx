import { useCallback, useEffect, useState } from 'preact/hooks';
import type { OnCallSegment, OnCallView, ScheduleTimeline } from '@oncall/contracts/console-api';
import { api, ApiError, can } from '../api';
import { OverrideForm, type OverrideDraft } from '../oncall/OverrideForm';
import { ScheduleChart } from '../oncall/ScheduleChart';
import { location } from '../router';
import { formatTime, viewerZone } from '../time';

const HOUR = 3600_000;

function Schedule({
  s,
  view,
  zoneMode,
  reload,
}: {
  s: ScheduleTimeline;
  view: OnCallView;
  zoneMode: 'viewer' | 'schedule';
  reload: () => void;
}) {
  const zone = zoneMode === 'viewer' ? viewerZone : s.timeZone;
  const [draft, setDraft] = useState<OverrideDraft>(() => {
    const start = Math.ceil(Date.parse(view.at) / HOUR) * HOUR;
    return { userId: '', replaceUserId: s.onCallNow[0] ?? '', start, end: start + 8 * HOUR };
  });
  const users = [...new Set(s.layers.flatMap((l) => l.segments.map((x) => x.userId)))].sort();
  const pick = (seg: OnCallSegment) =>
    setDraft({
      userId: '',
      replaceUserId: seg.userId,
      start: Math.max(Date.parse(seg.start), Date.parse(view.at)),
      end: Date.parse(seg.end),
    });
  const names = new Map(s.final.map((x) => [x.userId, x.userName]));

  return (
    <section class="schedule" aria-labelledby={`sched-${s.id}`} data-schedule-id={s.id}>
      <h2 id={`sched-${s.id}`}>
        {s.name} <span class="zone">({s.timeZone})</span>
      </h2>
      <p class="on-call-now">
        On call now:{' '}
        <span data-testid="on-call-now">{s.onCallNow.length ? s.onCallNow.map((u) => names.get(u) ?? u).join(', ') : 'nobody'}</span>
      </p>
      {s.problem && (
        <p class="error" role="alert">
          This schedule cannot be drawn: {s.problem}
        </p>
      )}
      <ScheduleChart schedule={s} from={view.from} to={view.to} at={view.at} zone={zone} onPick={pick} />
      {can('write') && <OverrideForm scheduleId={s.id} zone={zone} draft={draft} users={users} onCreated={reload} />}
    </section>
  );
}

/** Who is on call, now and for the next 14 days, per schedule; `?from=` shows another window. */
export function OnCallPage() {
  const [view, setView] = useState<OnCallView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [zoneMode, setZoneMode] = useState<'viewer' | 'schedule'>('viewer');
  const from = location.value.query.get('from');
  const days = location.value.query.get('days');

  const load = useCallback(async () => {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (days) q.set('days', days);
    try {
      setView(await api<OnCallView>('GET', `/api/oncall${q.size ? `?${q}` : ''}`));
      setError(null);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setError(err instanceof Error ? err.message : String(err));
    }
  }, [from, days]);
  useEffect(() => void load(), [load]);

  return (
    <section class="oncall" aria-labelledby="oncall-title">
      <h1 id="oncall-title">Who is on call</h1>
      <fieldset class="zone-toggle">
        <legend>Show times in</legend>
        <label class="check">
          <input type="radio" name="zone" value="viewer" checked={zoneMode === 'viewer'} onChange={() => setZoneMode('viewer')} />
          my time zone ({viewerZone})
        </label>
        <label class="check">
          <input type="radio" name="zone" value="schedule" checked={zoneMode === 'schedule'} onChange={() => setZoneMode('schedule')} />
          each schedule's time zone
        </label>
      </fieldset>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!view && !error && <p aria-busy="true">Loading schedules…</p>}
      {view && (
        <>
          <p class="window">
            {formatTime(view.from)} to {formatTime(view.to)} ({viewerZone})
          </p>
          {view.schedules.length === 0 && <p>No schedules.</p>}
          {view.schedules.map((s) => (
            <Schedule key={s.id} s={s} view={view} zoneMode={zoneMode} reload={() => void load()} />
          ))}
        </>
      )}
    </section>
  );
}

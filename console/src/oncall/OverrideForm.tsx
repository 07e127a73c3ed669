import { useEffect, useState } from 'preact/hooks';
import type { OverrideRequest } from '@oncall/contracts/console-api';
import { api, ApiError } from '../api';
import { fromLocalInput, toLocalInput } from '../zones';

export type OverrideDraft = { userId: string; replaceUserId: string; start: number; end: number };

/**
 * "Create an override" for one schedule: the user on call instead of (or beside) someone, from
 * start to end, the times read in `zone` (the zone the page shows). The server checks it as
 * ScheduleService.CreateOverride does and its refusal is shown as it wrote it.
 */
export function OverrideForm({
  scheduleId,
  zone,
  draft,
  users,
  onCreated,
}: {
  scheduleId: string;
  zone: string;
  draft: OverrideDraft;
  users: readonly string[];
  onCreated: () => void;
}) {
  const [userId, setUserId] = useState(draft.userId);
  const [replace, setReplace] = useState(draft.replaceUserId);
  const [start, setStart] = useState(toLocalInput(draft.start, zone));
  const [end, setEnd] = useState(toLocalInput(draft.end, zone));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setUserId(draft.userId);
    setReplace(draft.replaceUserId);
    setStart(toLocalInput(draft.start, zone));
    setEnd(toLocalInput(draft.end, zone));
  }, [draft, zone]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const s = fromLocalInput(start, zone);
    const en = fromLocalInput(end, zone);
    if (s === null || en === null) return setMessage({ ok: false, text: 'Start and end must be dates with a time.' });
    if (en <= s) return setMessage({ ok: false, text: 'The end must be after the start.' });
    const body: OverrideRequest = {
      userId: userId.trim(),
      ...(replace.trim() && { replaceUserId: replace.trim() }),
      start: new Date(s).toISOString(),
      end: new Date(en).toISOString(),
    };
    setBusy(true);
    try {
      await api<unknown>('POST', `/api/schedules/${encodeURIComponent(scheduleId)}/overrides`, body);
      setMessage({ ok: true, text: `Override created: ${body.userId}${body.replaceUserId ? ` instead of ${body.replaceUserId}` : ''}.` });
      onCreated();
    } catch (err) {
      setMessage({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  const listId = `users-${scheduleId}`;
  return (
    <form class="override-form" aria-label={`Create an override on ${scheduleId}`} onSubmit={(e) => void submit(e)}>
      <datalist id={listId}>
        {users.map((u) => (
          <option key={u} value={u} />
        ))}
      </datalist>
      <label>
        <span>User</span>
        <input name="userId" required list={listId} value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
      </label>
      <label>
        <span>Replaces (optional)</span>
        <input name="replaceUserId" list={listId} value={replace} onInput={(e) => setReplace(e.currentTarget.value)} />
      </label>
      <label>
        <span>Start ({zone})</span>
        <input name="start" type="datetime-local" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />
      </label>
      <label>
        <span>End ({zone})</span>
        <input name="end" type="datetime-local" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
      </label>
      <button type="submit" class="btn" disabled={busy || !userId.trim()}>
        {busy ? 'Creating…' : 'Create override'}
      </button>
      <p class={message?.ok ? 'ok' : 'error'} role="status" aria-live="polite">
        {message?.text ?? ''}
      </p>
    </form>
  );
}

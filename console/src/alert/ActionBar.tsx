import { useState } from 'preact/hooks';
import type { ActionRequest, ActionResult, ConsoleAction } from '@oncall/contracts/console-api';
import { api, ApiError } from '../api';

const LABELS: Record<ConsoleAction, string> = {
  acknowledge: 'Acknowledge',
  unacknowledge: 'Unacknowledge',
  resolve: 'Resolve',
  escalate: 'Escalate now',
  snooze: 'Snooze',
};
const SNOOZE_MINUTES = [15, 30, 60, 120, 240, 480, 1440];
const minutesText = (m: number) => (m < 60 ? `${m} minutes` : m === 60 ? '1 hour' : `${m / 60} hours`);

const isResult = (b: unknown): b is ActionResult =>
  typeof b === 'object' && b !== null && typeof (b as ActionResult).outcome === 'string' && typeof (b as ActionResult).message === 'string';

/**
 * The buttons for the actions the server says this user may take now (none for a read-only token),
 * each through POST /api/alerts/<id>/actions: the same command path as Slack and the CLI. The
 * answer's message is shown as the server wrote it ("already resolved by bob").
 */
export function ActionBar({ alertId, actions, onDone }: { alertId: string; actions: readonly ConsoleAction[]; onDone: () => void }) {
  const [busy, setBusy] = useState<ConsoleAction | null>(null);
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  const [minutes, setMinutes] = useState(60);

  const act = async (action: ConsoleAction) => {
    setBusy(action);
    setResult(null);
    const body: ActionRequest = action === 'snooze' ? { action, minutes } : { action };
    try {
      const r = await api<ActionResult>('POST', `/api/alerts/${encodeURIComponent(alertId)}/actions`, body, isResult);
      setResult({ ok: r.outcome === 'applied', message: r.message });
    } catch (err) {
      setResult({ ok: false, message: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy(null);
      onDone();
    }
  };

  if (actions.length === 0) return <p class="no-actions">No actions: this alert is closed or your token is read-only.</p>;
  return (
    <div class="actions" role="group" aria-label="Actions">
      {actions
        .filter((a) => a !== 'snooze')
        .map((a) => (
          <button key={a} type="button" class={`btn btn-${a}`} data-action={a} disabled={busy !== null} onClick={() => void act(a)}>
            {busy === a ? `${LABELS[a]}…` : LABELS[a]}
          </button>
        ))}
      {actions.includes('snooze') && (
        <span class="snooze">
          <label>
            <span class="sr-only">Snooze for</span>
            <select name="snooze-minutes" value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
              {SNOOZE_MINUTES.map((m) => (
                <option key={m} value={m}>
                  {minutesText(m)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="btn btn-snooze" data-action="snooze" disabled={busy !== null} onClick={() => void act('snooze')}>
            {busy === 'snooze' ? 'Snoozing…' : 'Snooze'}
          </button>
        </span>
      )}
      <p class={`action-result ${result?.ok ? 'ok' : 'not-ok'}`} role="status" aria-live="polite">
        {result?.message ?? ''}
      </p>
    </div>
  );
}

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { AlertPage as AlertPageData } from '@oncall/contracts/console-api';
import { api, ApiError } from '../api';
import { ActionBar } from '../alert/ActionBar';
import { Timeline } from '../alert/Timeline';
import { badges } from '../board/BoardRow';
import { startLive, watchDeltas } from '../board/live';
import { formatAge, formatTime, now } from '../time';

const dl = (pairs: readonly (readonly [string, string])[]) => (
  <dl class="kv">
    {pairs.map(([k, v]) => (
      <div key={k}>
        <dt>{k}</dt>
        <dd>{v}</dd>
      </div>
    ))}
  </dl>
);

const until = (iso: string | null) =>
  iso
    ? `${formatTime(iso)} (${Date.parse(iso) >= now.value ? 'in ' : ''}${formatAge(Math.abs(Date.parse(iso) - now.value))}${Date.parse(iso) < now.value ? ' ago' : ''})`
    : '—';

/**
 * One alert: what it is, where it stands in its escalation, its tickets and every event, with the
 * actions the user may take. Live: a board delta naming this alert fetches the page again.
 */
export function AlertPage({ id }: { id: string }) {
  const [data, setData] = useState<AlertPageData | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setData(await api<AlertPageData>('GET', `/api/alerts/${encodeURIComponent(id)}`));
      setError(null);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      setError(
        err instanceof ApiError && err.status === 404 ? `No alert with id ${id}.` : String(err instanceof Error ? err.message : err),
      );
    }
  }, [id]);

  useEffect(() => {
    setData(null);
    void load();
    startLive();
    return watchDeltas((ids) => {
      if (ids.has(id)) void load();
    });
  }, [id, load]);

  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!data) return <p aria-busy="true">Loading alert…</p>;
  const { alert: a, timeline, tickets, actions, traceUrl } = data;
  const b = badges(a);

  return (
    <article class="alert-page" data-alert-id={a.id} data-status={a.status}>
      <p>
        <a href="/">← Board</a>
      </p>
      <h1>
        <span class={`sev-chip sev-${a.severity}`}>{a.severity}</span> {a.summary}
      </h1>
      <p class="alert-status">
        Status: <strong data-testid="alert-status">{a.status}</strong>
        {a.acknowledgedBy && ` — acknowledged by ${a.acknowledgedBy}${a.acknowledgedAt ? ` at ${formatTime(a.acknowledgedAt)}` : ''}`}
        {a.resolvedAt && ` — resolved${a.resolvedBy ? ` by ${a.resolvedBy}` : ''} at ${formatTime(a.resolvedAt)}`}
        {a.snoozedUntil && ` — snoozed until ${formatTime(a.snoozedUntil)}`}
        {b.map((x) => (
          <span key={x} class={`badge b-${x.startsWith('×') ? 'repeat' : x}`}>
            {x}
          </span>
        ))}
      </p>
      <ActionBar alertId={a.id} actions={actions} onDone={() => void load()} />

      <div class="alert-grid">
        <section aria-labelledby="about-title">
          <h2 id="about-title">About</h2>
          {dl([
            ['Alert id', a.id],
            ['Service', a.serviceId],
            ['Site', a.site ?? '—'],
            ['Source', `${a.source} (severity ${a.sourceSeverity})`],
            ['Created', `${formatTime(a.createdAt)} (${formatAge(now.value - Date.parse(a.createdAt))} ago)`],
            ['Repeats', String(a.repeatCount)],
            ...(a.incidentId ? [['Incident', a.incidentId] as const] : []),
          ])}
          {a.details && <pre class="details">{a.details}</pre>}
        </section>
        <section aria-labelledby="escalation-title">
          <h2 id="escalation-title">Escalation</h2>
          {dl([
            ['Policy', a.policyId ?? '—'],
            ['Routed by', a.routingRules.join(', ') || '—'],
            ['Step', a.step === null ? 'not paged yet' : String(a.step + 1)],
            ['Paged', a.paged.join(', ') || '—'],
            ['Next escalation', until(a.nextEscalationAt)],
            ['SLA deadline', until(a.slaDeadline)],
          ])}
        </section>
        <section aria-labelledby="labels-title">
          <h2 id="labels-title">Labels</h2>
          {dl(Object.entries(a.labels))}
          <h2>Annotations</h2>
          {Object.keys(a.annotations).length ? dl(Object.entries(a.annotations)) : <p>None.</p>}
        </section>
        <section aria-labelledby="links-title">
          <h2 id="links-title">Links</h2>
          <ul class="links">
            {a.links.map((l) => (
              <li key={l.href}>
                <a href={l.href} rel="noopener noreferrer" target="_blank">
                  {l.text || l.href}
                </a>
              </li>
            ))}
            {a.generatorUrl && (
              <li>
                <a href={a.generatorUrl} rel="noopener noreferrer" target="_blank">
                  Source graph
                </a>
              </li>
            )}
            {traceUrl && (
              <li>
                <a href={traceUrl} rel="noopener noreferrer" target="_blank" data-testid="trace-link">
                  Pipeline trace
                </a>
              </li>
            )}
            {!a.links.length && !a.generatorUrl && !traceUrl && <li>None.</li>}
          </ul>
          <h2>Tickets</h2>
          {tickets.length === 0 ? (
            <p>None.</p>
          ) : (
            <ul class="tickets">
              {tickets.map((t) => (
                <li key={t.providerId}>
                  {t.providerId}:{' '}
                  {t.url ? (
                    <a href={t.url} rel="noopener noreferrer" target="_blank">
                      {t.key ?? t.url}
                    </a>
                  ) : (
                    (t.key ?? 'not created yet')
                  )}{' '}
                  ({t.state}){t.lastError && <span class="error"> — {t.lastError}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <Timeline entries={timeline} />
    </article>
  );
}

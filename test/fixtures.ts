import { readFileSync } from 'node:fs';

/** Alertmanager 0.25 webhook payloads captured from a real Alertmanager. */
export const amFiring = readFileSync(new URL('./fixtures/alertmanager/v0.25-firing.json', import.meta.url), 'utf8');
export const amResolved = readFileSync(new URL('./fixtures/alertmanager/v0.25-resolved.json', import.meta.url), 'utf8');

type AmAlert = {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint?: string;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
};

/** An Alertmanager v4 payload with the given alerts, shaped like the captured fixture. */
export function amPayload(alerts: AmAlert[], status = 'firing'): string {
  const base = JSON.parse(amFiring) as Record<string, unknown>;
  return JSON.stringify({ ...base, status, alerts });
}

export function amAlert(name: string, opts: Partial<AmAlert> = {}): AmAlert {
  return {
    status: 'firing',
    labels: { alertname: name, severity: 'critical', instance: `${name}.example:9100` },
    annotations: { summary: `${name} is down` },
    startsAt: '2026-11-23T10:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: `http://prometheus.example/graph?g0.expr=${name}`,
    ...opts,
  };
}

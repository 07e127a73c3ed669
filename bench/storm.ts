/** Realistic Alertmanager storms: a core router dies and thousands of targets behind it fire. */

const SITES = ['fra1', 'ams2', 'lon3', 'par1', 'nyc4', 'sjc2'];
const ALERTS = ['InstanceDown', 'BGPSessionDown', 'InterfaceDown', 'HighPacketLoss', 'LinkFlapping', 'HighLatency'];
const SEVERITIES = ['critical', 'warning', 'page'];

export type AmAlert = {
  status: 'firing';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
};

/** The n-th alert of a storm; the same n always gives the same alert (and fingerprint). */
export function stormAlert(n: number, runId: string): AmAlert {
  const site = SITES[n % SITES.length]!;
  const name = ALERTS[n % ALERTS.length]!;
  const device = `${site}-edge-${(n % 97).toString().padStart(2, '0')}`;
  return {
    status: 'firing',
    labels: {
      alertname: name,
      severity: SEVERITIES[n % SEVERITIES.length]!,
      site,
      pop: `${site}-pop${n % 3}`,
      device,
      instance: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}:9100`,
      job: 'node',
      team: n % 2 ? 'network' : 'platform',
      customer_tier: n % 5 === 0 ? 'gold' : 'standard',
      run: runId,
    },
    annotations: {
      summary: `${name} on ${device} (target ${n})`,
      description: `${name} has been firing for more than 2 minutes on ${device} behind core router ${site}-core-1.`,
      runbook_url: `https://runbooks.example.net/${name.toLowerCase()}`,
    },
    startsAt: '2026-11-23T10:00:00.000Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: `http://prometheus.${site}.example.net/graph?g0.expr=up%3D%3D0`,
    fingerprint: `${runId}${n.toString(16).padStart(10, '0')}`.slice(-16),
  };
}

/** An Alertmanager v4 webhook body for these alerts. */
export function webhookBody(alerts: AmAlert[], groupKey: string, seq: number): string {
  return JSON.stringify({
    receiver: 'oncall',
    status: 'firing',
    alerts,
    groupLabels: { alertname: alerts[0]?.labels.alertname ?? '' },
    commonLabels: { job: 'node' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.net:9093',
    version: '4',
    groupKey: `${groupKey}:${seq}`,
    truncatedAlerts: 0,
  });
}

/** The same alerts in the body of Alertmanager's own `POST /api/v2/alerts`. */
export function alertmanagerApiBody(alerts: AmAlert[]): string {
  return JSON.stringify(
    alerts.map((a) => ({ labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, generatorURL: a.generatorURL })),
  );
}

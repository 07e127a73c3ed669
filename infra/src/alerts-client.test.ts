import { describe, expect, it } from 'vitest';
import { alertingV1 } from '@oncall/contracts/grpc';
import { age, alertsTable, parseAlertsArgs } from './alerts-client.js';
import { UsageError } from './cli-usage.js';

const { AlertStatus, Severity } = alertingV1;

describe('oncall alerts arguments', () => {
  it.each<[string, string[], Partial<alertingV1.ListAlertsRequest>]>([
    ['nothing: every alert, 1000 at most', [], { statuses: [], severities: [], serviceIds: [], labelSelector: {}, pageSize: 1000 }],
    ['a label', ['--label', 'site=ams2'], { labelSelector: { site: 'ams2' } }],
    ['labels, repeated; a value may hold =', ['--label', 'site=ams2', '--label', 'q=a=b'], { labelSelector: { site: 'ams2', q: 'a=b' } }],
    ['the same label twice', ['--label', 'site=ams2', '--label', 'site=ams2'], { labelSelector: { site: 'ams2' } }],
    [
      'statuses, repeated and comma-separated, any case',
      ['--status', 'triggered,Acknowledged', '--status', 'snoozed'],
      { statuses: [AlertStatus.ALERT_STATUS_TRIGGERED, AlertStatus.ALERT_STATUS_ACKNOWLEDGED, AlertStatus.ALERT_STATUS_SNOOZED] },
    ],
    ['resolved', ['--status', 'resolved'], { statuses: [AlertStatus.ALERT_STATUS_RESOLVED] }],
    ['severities', ['--severity', 'critical,warning'], { severities: [Severity.SEVERITY_CRITICAL, Severity.SEVERITY_WARNING] }],
    ['services', ['--service', 'checkout', '--service', 'payroll'], { serviceIds: ['checkout', 'payroll'] }],
    ['a limit', ['--limit', '50'], { pageSize: 50 }],
  ])('%s', (_name, argv, request) => {
    expect(parseAlertsArgs(argv).request).toMatchObject(request);
  });

  it('--json and --grpc', () => {
    expect(parseAlertsArgs(['--json', '--grpc', 'h:1'])).toMatchObject({ json: true, grpc: 'h:1' });
    expect(parseAlertsArgs([])).toMatchObject({ json: false, grpc: undefined });
  });

  it.each([
    ['an unknown status', ['--status', 'open'], 'alerts --status: "open" is not one of triggered, acknowledged, snoozed, resolved'],
    ['an empty status in a list', ['--status', 'triggered,'], 'alerts --status: "" is not one of'],
    ['an unknown severity', ['--severity', 'p1'], 'alerts --severity: "p1" is not one of info, warning, error, critical'],
    ['a label without =', ['--label', 'site'], 'alerts --label: "site" is not key=value'],
    ['a label without a value', ['--label', 'site='], 'alerts --label: "site=" is not key=value'],
    ['a label without a key', ['--label', '=ams2'], 'alerts --label: "=ams2" is not key=value'],
    ['one label, two values', ['--label', 'site=ams2', '--label', 'site=fra1'], 'alerts --label: site given twice (ams2, fra1)'],
    ['an empty service', ['--service', ''], 'alerts --service: an empty service id'],
    ['a limit of 0', ['--limit', '0'], 'alerts --limit: "0" is not a whole number from 1 to 10000'],
    ['a limit too large', ['--limit', '10001'], 'alerts --limit: "10001" is not a whole number'],
    ['a limit not a number', ['--limit', '5x'], 'alerts --limit: "5x" is not a whole number'],
    ['a negative limit', ['--limit=-1'], 'alerts --limit: "-1" is not a whole number'],
    ['an unknown flag', ['--site', 'ams2'], "alerts: Unknown option '--site'"],
    ['a positional', ['ams2'], "alerts: Unexpected argument 'ams2'"],
  ])('%s is a usage error', (_name, argv, message) => {
    expect(() => parseAlertsArgs(argv)).toThrow(UsageError);
    expect(() => parseAlertsArgs(argv)).toThrow(message);
  });
});

describe('oncall alerts table', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const alert = (over: Partial<alertingV1.Alert>) =>
    alertingV1.Alert.fromPartial({
      id: '6f1d8a3e-1111-4000-8000-000000000000',
      status: AlertStatus.ALERT_STATUS_TRIGGERED,
      severity: Severity.SEVERITY_CRITICAL,
      serviceId: 'checkout',
      summary: 'Disk full',
      createdAt: new Date(now - 90_000),
      ...over,
    });

  it.each([
    [30_000, '30s'],
    [90_000, '1m'],
    [7_200_000, '2h'],
    [3 * 86_400_000, '3d'],
    [-5000, '0s'],
  ])('age of %d ms: %s', (ms, text) => {
    expect(age(new Date(now - ms), now)).toBe(text);
  });

  it('one row an alert, columns aligned; the site column only when an alert has a site (the registry, else the label)', () => {
    const a = alert({});
    const b = alert({
      id: 'abcdef01-2222-4000-8000-000000000000',
      status: AlertStatus.ALERT_STATUS_ACKNOWLEDGED,
      severity: Severity.SEVERITY_WARNING,
      serviceId: 'payroll',
      summary: 'Queue\nstuck',
      labels: { site: 'ams2' },
    });
    expect(alertsTable([a], now)).toBe(
      'ID        STATUS     SEVERITY  SERVICE   AGE  SUMMARY\n6f1d8a3e  triggered  critical  checkout  1m   Disk full\n',
    );
    expect(alertsTable([a, b], now)).toBe(
      'ID        STATUS        SEVERITY  SERVICE   AGE  SITE  SUMMARY\n' +
        '6f1d8a3e  triggered     critical  checkout  1m   -     Disk full\n' +
        'abcdef01  acknowledged  warning   payroll   1m   ams2  Queue stuck\n',
    );
    expect(alertsTable([alert({ site: 'fra1', labels: { site: 'ams2' } })], now)).toContain('  fra1  Disk full');
  });

  it('a terminal width cuts summaries to fit; no alerts says so', () => {
    const long = alert({ summary: 'x'.repeat(200) });
    const [, row] = alertsTable([long], now, 80).split('\n');
    expect(row).toHaveLength(80);
    expect(row!.endsWith('x…')).toBe(true);
    expect(alertsTable([long], now).split('\n')[1]).toContain('x'.repeat(200));
    expect(alertsTable([], now)).toBe('no alerts\n');
  });
});

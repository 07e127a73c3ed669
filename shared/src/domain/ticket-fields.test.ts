import { describe, expect, it } from 'vitest';
import { compileTicketFields, TicketFieldError, type TicketFieldInput } from './ticket-fields.js';

const input: TicketFieldInput = {
  alert: {
    id: '11111111-1111-4111-8111-111111111111',
    severity: 'critical',
    summary: 'BGP session down',
    details: 'peer 10.0.0.1',
    status: 'firing',
    source: 'alertmanager',
    fingerprint: 'fp1',
    url: 'http://console/alerts/1',
  },
  service: { id: 'core', name: 'Core network' },
  labels: { site: 'ams2', team: 'netops' },
  annotations: { runbook: 'https://runbooks/bgp' },
};

describe('ticket field mapping', () => {
  it.each([
    ['string concatenation', '"[" + service.name + "] " + alert.summary', '[Core network] BGP session down'],
    ['conditional', 'alert.severity == "critical" ? "Highest" : "Medium"', 'Highest'],
    ['default when a label is missing', '"owner" in labels ? labels.owner : "noc"', 'noc'],
    [
      'runbook appended',
      'alert.details + ("runbook" in annotations ? "\\nRunbook: " + annotations.runbook : "")',
      'peer 10.0.0.1\nRunbook: https://runbooks/bgp',
    ],
    ['list', '["oncall", labels.team]', ['oncall', 'netops']],
    ['int becomes a number', '3', 3],
    ['map', '{"id": labels.site}', { id: 'ams2' }],
  ])('%s', (_name, source, expected) => {
    expect(compileTicketFields({ f: source }).evaluate(input)).toEqual({ f: expected });
  });

  it.each([
    ['syntax error', '"unterminated'],
    ['unknown variable', 'alrt.summary'],
    ['unknown field', 'alert.nope'],
    ['type error', 'alert.summary + 1'],
  ])('refuses %s at compile time, naming the field', (_name, source) => {
    expect(() => compileTicketFields({ summary: source })).toThrow(TicketFieldError);
    expect(() => compileTicketFields({ summary: source })).toThrow(/^field summary: /);
  });

  it('a missing label fails at evaluation, naming the field', () => {
    const c = compileTicketFields({ owner: 'labels.owner' });
    expect(() => c.evaluate(input)).toThrow(/^field owner: /);
  });
});

import type { BoardAlert } from '@oncall/contracts/console-api';

/** A board row for the page's tests: a triggered critical alert at ams2, with `over` on top. */
export const boardAlert = (id: string, over: Partial<BoardAlert> = {}): BoardAlert => ({
  id,
  serviceId: 'checkout',
  status: 'triggered',
  severity: 'critical',
  summary: `disk full on ${id}`,
  site: 'ams2',
  labels: { site: 'ams2' },
  createdAt: '2026-12-06T06:00:00.000Z',
  updatedAt: '2026-12-06T06:00:00.000Z',
  step: null,
  paged: [],
  acknowledgedBy: null,
  snoozedUntil: null,
  incidentId: null,
  inhibited: false,
  flapping: false,
  repeatCount: 1,
  ...over,
});

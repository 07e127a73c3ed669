import type { BoardAlert } from '@oncall/contracts';

/** A board row for the console's tests: triggered, critical, unpaged, with `over` on top. */
export const boardAlert = (id: string, over: Partial<BoardAlert> = {}): BoardAlert => ({
  id,
  serviceId: 'svc',
  status: 'triggered',
  severity: 'critical',
  summary: id,
  site: null,
  labels: {},
  createdAt: '2026-12-06T00:00:00.000Z',
  updatedAt: '2026-12-06T00:00:00.000Z',
  step: null,
  paged: [],
  acknowledgedBy: null,
  snoozedUntil: null,
  incidentId: null,
  inhibited: false,
  flapping: false,
  repeatCount: 0,
  ...over,
});

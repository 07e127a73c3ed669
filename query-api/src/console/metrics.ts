import { Counter, Gauge } from 'prom-client';
import { registry } from '@oncall/shared';

export const consoleRequests = new Counter({
  name: 'oncall_console_requests_total',
  help: 'Console HTTP requests by route (the route pattern, or "static" and "not_found") and status',
  labelNames: ['route', 'status'],
  registers: [registry],
});

export const sseConnections = new Gauge({
  name: 'oncall_console_sse_connections',
  help: 'Open live board streams (GET /api/board/events)',
  registers: [registry],
});

export const deltasSent = new Counter({
  name: 'oncall_console_deltas_total',
  help: 'Board events sent to browsers, by kind (delta, reset)',
  labelNames: ['kind'],
  registers: [registry],
});

export const boardReads = new Counter({
  name: 'oncall_console_board_reads_total',
  help: "Reads of the board's changed rows after projector commits (one per commit burst, for all connections)",
  registers: [registry],
});

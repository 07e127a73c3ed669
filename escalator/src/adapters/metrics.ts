import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '@oncall/shared';

/** What the gauges read from each partition running in this process (at scrape time, not per decision). */
export interface PartitionGauges {
  readonly partition: number;
  size(): number;
  timerCount(): number;
}

export const runningPartitions = new Set<PartitionGauges>();

const decisionsTotal = new Counter({
  name: 'oncall_escalator_events_total',
  help: 'Escalation events appended',
  labelNames: ['type'],
  registers: [registry],
});
new Gauge({
  name: 'oncall_escalator_open_escalations',
  help: 'Escalations held in memory',
  labelNames: ['partition'],
  registers: [registry],
  collect() {
    this.reset();
    for (const p of runningPartitions) this.set({ partition: String(p.partition) }, p.size());
  },
});
new Gauge({
  name: 'oncall_escalator_timers',
  help: 'Escalations waiting for a timer',
  labelNames: ['partition'],
  registers: [registry],
  collect() {
    this.reset();
    for (const p of runningPartitions) this.set({ partition: String(p.partition) }, p.timerCount());
  },
});
export const fireLag = new Histogram({
  name: 'oncall_escalator_timer_lag_seconds',
  help: 'How late timers fired',
  buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  registers: [registry],
});

const undecidableTotal = new Counter({
  name: 'oncall_escalator_undecidable_total',
  help: 'Inputs the escalation rules threw on (alert events are parked; Ticks wait for the next input; retries are answered with the error)',
  labelNames: ['input'],
  registers: [registry],
});
export const countUndecidable = (input: string): void => undecidableTotal.inc({ input });

const countersByType = new Map<string, { inc: () => void }>();
export function countAppended(type: string): void {
  let counter = countersByType.get(type);
  if (!counter) countersByType.set(type, (counter = decisionsTotal.labels({ type })));
  counter.inc();
}

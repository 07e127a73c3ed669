import { Counter, Histogram } from 'prom-client';
import { registry } from '@oncall/shared';

export const deliveriesTotal = new Counter({
  name: 'oncall_dispatcher_deliveries_total',
  help: 'Delivery outcomes by channel',
  labelNames: ['channel', 'outcome', 'reason'],
  registers: [registry],
});

export const requestToDelivery = new Histogram({
  name: 'oncall_dispatcher_request_to_delivery_seconds',
  help: 'From NotificationRequested to the provider accepting the message',
  labelNames: ['channel'],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

import { setMaxListeners } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS } from '@oncall/contracts';
import { Parking, serveParkedRetries, StreamAppender, type Clock, type ConfigView, type Logger } from '@oncall/shared';
import type { Notifiers } from '../notifiers/index.js';
import type { DispatcherOptions } from '../options.js';
import { deliveryPipeline } from '../pipeline/index.js';
import { consumeEscalations } from './consumer.js';
import { deliveryEvents } from './events.js';
import { notificationHandler, type IncidentListener } from './notifications.js';
import { openPhoneBook } from './phone-book.js';
import { DeliveryRecords } from './records.js';

export type DispatcherDeps = Readonly<{
  nc: NatsConnection;
  notifiers: Notifiers;
  config: ConfigView;
  clock: Clock;
  log: Logger;
  options: DispatcherOptions;
  replicas: number;
  /** Where the console channel prints (default: stdout). */
  consoleWrite?: (text: string) => void;
  /** Hears each IncidentUpdated the consumer reads (the Slack editor shows the incident's size). */
  onIncident?: IncidentListener;
}>;

/**
 * The dispatcher's shell: opens the delivery records, builds the pipeline, serves retries of
 * parked messages and consumes the escalations stream until `stop` aborts. Resolves once
 * started (a failure to start rejects); `done` settles when it has stopped.
 */
export async function runDispatcher(deps: DispatcherDeps, stop: AbortSignal): Promise<{ done: Promise<void> }> {
  const { nc, clock, log, options } = deps;
  // Every notification waiting in a bundle window or for a rate limit listens for the stop.
  setMaxListeners(0, stop);
  // KV writes and delivery events go out as core publishes with replies (see StreamAppender).
  const appender = new StreamAppender(nc, 10_000);
  const records = await DeliveryRecords.open(nc, appender, { replicas: deps.replicas, clock, claimStaleMs: options.claimStaleMs, log });
  // Reply codes and opt-outs matter only where SMS or calls go out.
  const phoneBook = deps.notifiers.sms || deps.notifiers.voice ? await openPhoneBook(nc, deps.replicas) : null;
  const run = deliveryPipeline({
    phoneBook,
    records,
    events: deliveryEvents(appender, clock),
    notifiers: deps.notifiers,
    config: deps.config,
    clock,
    log,
    options,
    stopping: stop,
    ...(deps.consoleWrite && { consoleWrite: deps.consoleWrite }),
  });
  const notifications = notificationHandler({ run, parking: new Parking(appender, log), log, options, onIncident: deps.onIncident });
  const retries = serveParkedRetries(nc, CONSUMERS.dispatcher, appender, log, notifications.retryParked);
  const consuming = consumeEscalations({
    nc,
    log,
    stop,
    concurrency: options.concurrency,
    ackWaitMs: options.ackWaitMs,
    handle: notifications.handle,
  });
  const done = consuming.finally(async () => {
    retries.unsubscribe();
    records.close();
    await appender.close();
  });
  return { done };
}

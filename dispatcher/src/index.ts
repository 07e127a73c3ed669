import type { NatsConnection } from '@nats-io/transport-node';
import { ContactVerifications, systemClock, watchConfig, type Clock, type Logger, type UserDirectory } from '@oncall/shared';
import { runDispatcher } from './adapters/dispatcher.js';
import type { IncidentListener } from './adapters/notifications.js';
import type { Notifiers } from './notifiers/index.js';
import type { SlackMessageEditor } from './notifiers/slack-update.js';
import { runSlackUpdates } from './adapters/slack-updates.js';
import { runHandoffs } from './adapters/handoffs.js';
import { runVerifications } from './adapters/verifications.js';
import { DEFAULT_OPTIONS, type DispatcherOptions } from './options.js';

export { loadDispatcherConfig, notifiersFrom, providerLimits, publicUrlOf, type DispatcherConfig } from './config.js';
export { DEFAULT_OPTIONS, type DispatcherOptions } from './options.js';
export { DELIVERY_BUCKET } from './adapters/records.js';
export { slackMessageEditor, SlackUpdateError, type SlackMessageEditor } from './notifiers/slack-update.js';
export * as notifiers from './notifiers/index.js';

export type Stoppable = { stop: () => Promise<void> };

/** Starts the delivery pipeline; replicas share the escalations stream's durable consumer. */
export async function startDispatcher(opts: {
  nc: NatsConnection;
  notifiers: Notifiers;
  log: Logger;
  clock?: Clock;
  options?: Partial<DispatcherOptions>;
  replicas?: number;
  /** Where the console channel prints (default: stdout). */
  consoleWrite?: (text: string) => void;
  /** Edits the Slack messages of an alert as it changes (docs/responders.md#answering-pages-from-slack); absent: messages stay as sent. */
  slackUpdates?: Readonly<{ editor: SlackMessageEditor; users: UserDirectory | null }>;
}): Promise<Stoppable> {
  const config = await watchConfig(opts.nc);
  const stop = new AbortController();
  const options = { ...DEFAULT_OPTIONS, ...opts.options };
  // The dispatcher's consumer reads every escalation event; the Slack editor hears the incidents' sizes from it.
  const incidentListeners: IncidentListener[] = [];
  const incidents = { listen: (l: IncidentListener) => void incidentListeners.push(l) };
  const { done } = await runDispatcher(
    {
      nc: opts.nc,
      notifiers: opts.notifiers,
      config,
      clock: opts.clock ?? systemClock,
      log: opts.log,
      options,
      replicas: opts.replicas ?? 1,
      ...(opts.consoleWrite && { consoleWrite: opts.consoleWrite }),
      onIncident: (partition, alertId, alerts) => {
        for (const l of incidentListeners) l(partition, alertId, alerts);
      },
    },
    stop.signal,
  );
  const slackUpdates = opts.slackUpdates
    ? runSlackUpdates(
        { nc: opts.nc, config, log: opts.log, publicUrl: options.consoleUrl ?? options.publicUrl, incidents, ...opts.slackUpdates },
        stop.signal,
      )
    : Promise.resolve();
  slackUpdates.catch((err: unknown) => opts.log.error({ err }, 'Slack message updates stopped'));
  const handoffs = runHandoffs(
    {
      nc: opts.nc,
      notifiers: opts.notifiers,
      log: opts.log,
      consoleWrite: options.consoleChannel ? (opts.consoleWrite ?? ((t) => void process.stdout.write(t))) : null,
    },
    stop.signal,
  );
  handoffs.catch((err: unknown) => opts.log.error({ err }, 'handoff summaries stopped'));
  const verifications = runVerifications(
    {
      nc: opts.nc,
      notifiers: opts.notifiers,
      verifications: await ContactVerifications.open(opts.nc, { replicas: opts.replicas ?? 1 }),
      log: opts.log,
      now: () => (opts.clock ?? systemClock).now(),
      consoleWrite: options.consoleChannel ? (opts.consoleWrite ?? ((t) => void process.stdout.write(t))) : null,
    },
    stop.signal,
  );
  verifications.catch((err: unknown) => opts.log.error({ err }, 'verification codes stopped'));
  const consoleOn = opts.options?.consoleChannel === true;
  opts.log.info(
    { channels: Object.keys(opts.notifiers), consoleChannel: consoleOn, slackUpdates: opts.slackUpdates !== undefined },
    'dispatcher running',
  );
  return {
    stop: async () => {
      stop.abort();
      await done;
      await slackUpdates.catch(() => undefined);
      await handoffs.catch(() => undefined);
      await verifications.catch(() => undefined);
      await config.stop();
    },
  };
}

import * as grpc from '@grpc/grpc-js';
import avro from 'avsc';
import type { Logger } from '@oncall/shared';
import { type InboundChange, type ProviderContext, type SubscribeOptions } from '../types.js';
import { invalidate, session, type Session } from './auth.js';
import { caseChanges, type ChangeEvent } from './cdc.js';
import { pubSubClient, type FetchRequest, type FetchResponse, type PubSubClient } from './pubsub-proto.js';
import { rest } from './rest.js';
import { salesforceSettings } from './settings.js';

/** Events asked for at once (flow control): each handled batch asks for as many again. */
const BATCH = 100;
const FIRST_RECONNECT_MS = 250;
const MAX_RECONNECT_MS = 30_000;
const SCHEMA_DEADLINE_MS = 10_000;

interface EventSchema {
  type: avro.Type;
  fields: string[];
}

/**
 * Case changes from the Pub/Sub API (Change Data Capture): subscribes after `replayId` (or at the
 * tip when null), hands each batch with its replay id to `onChanges` one at a time (again, after a
 * back-off, when it throws), and asks for more only when a batch is handled. A dropped stream
 * resubscribes after the last replay id handed over, with back-off; a refused token signs in again.
 */
export function subscribeCaseChanges(ctx: ProviderContext, opts: SubscribeOptions): { stop(): Promise<void> } {
  const settings = salesforceSettings(ctx.config);
  const pubSub = settings.pubSub;
  const log: Logger | undefined = opts.log?.child({ provider: ctx.config.providerId, stage: 'pubsub' });
  if (pubSub === null) {
    log?.info('settings.pubSub is null: no Pub/Sub subscription (inbound by polling only)');
    return { stop: async () => undefined };
  }
  const schemas = new Map<string, Promise<EventSchema>>();
  const actorNames = new Map<string, string>();
  let replayId = opts.replayId;
  /** The stored replay id was refused (older than the 72-hour retention): start at the oldest event kept. */
  let fromEarliest = false;
  let stopped = false;
  let delay = FIRST_RECONNECT_MS;
  let timer: NodeJS.Timeout | null = null;
  let client: PubSubClient | null = null;
  let call: grpc.ClientDuplexStream<FetchRequest, FetchResponse> | null = null;
  let work: Promise<void> = Promise.resolve();
  let wakeUp: (() => void) | null = null;
  let retryTimer: NodeJS.Timeout | null = null;

  const reconnectLater = (reason: string) => {
    if (stopped) return;
    log?.warn({ reason, retryInMs: delay }, 'Salesforce Pub/Sub subscription down; resubscribing');
    timer = setTimeout(() => void connect(), delay);
    delay = Math.min(delay * 2, MAX_RECONNECT_MS);
  };

  const metadataFor = (s: Session) => {
    const metadata = new grpc.Metadata();
    metadata.set('accesstoken', s.accessToken);
    metadata.set('instanceurl', s.instanceUrl);
    if (s.tenantId !== null) metadata.set('tenantid', s.tenantId);
    return metadata;
  };

  const schemaFor = (id: string, c: PubSubClient, s: Session): Promise<EventSchema> => {
    let found = schemas.get(id);
    if (!found) {
      found = new Promise<EventSchema>((resolve, reject) =>
        c.GetSchema({ schema_id: id }, metadataFor(s), { deadline: Date.now() + SCHEMA_DEADLINE_MS }, (err, info) => {
          if (err || !info) return reject(err ?? new Error('GetSchema answered nothing'));
          const type = avro.Type.forSchema(JSON.parse(info.schema_json) as avro.Schema);
          resolve({ type, fields: (type as avro.types.RecordType).fields.map((f) => f.name) });
        }),
      );
      found.catch(() => schemas.delete(id));
      schemas.set(id, found);
    }
    return found;
  };

  /** commitUser is a User id: shown by its Username (looked up once; the id if the lookup fails). */
  const actorName = async (userId: string): Promise<string> => {
    const known = actorNames.get(userId);
    if (known !== undefined) return known;
    try {
      const answer = await rest(ctx, 'user lookup', 'GET', `/sobjects/User/${encodeURIComponent(userId)}?fields=Username`, {
        notFoundIsNull: true,
      });
      const username = (answer?.json as { Username?: unknown } | null)?.Username;
      const name = typeof username === 'string' ? username : userId;
      actorNames.set(userId, name);
      return name;
    } catch (err) {
      log?.warn({ err: (err as Error).message, userId }, 'Salesforce user lookup failed; the actor stays the user id');
      return userId;
    }
  };

  /** Offers the batch until `onChanges` takes it (back-off between tries); false if stopped first. */
  const handOver = async (changes: InboundChange[], last: Buffer): Promise<boolean> => {
    for (let wait = FIRST_RECONNECT_MS; !stopped; wait = Math.min(wait * 2, MAX_RECONNECT_MS)) {
      try {
        await opts.onChanges(changes, last);
        return true;
      } catch (err) {
        log?.warn({ err: (err as Error).message, retryInMs: wait }, 'Salesforce change batch not handled; offering it again');
        await new Promise<void>((resolve) => {
          wakeUp = resolve;
          retryTimer = setTimeout(resolve, wait);
        });
      }
    }
    return false;
  };

  /** Decodes and hands over one response; true when it was handled (then ask for as many events again). */
  const handle = async (response: FetchResponse, c: PubSubClient, s: Session): Promise<boolean> => {
    const changes: InboundChange[] = [];
    for (const { event, replay_id } of response.events) {
      const schema = await schemaFor(event.schema_id, c, s);
      const decoded = schema.type.fromBuffer(event.payload) as ChangeEvent;
      changes.push(...caseChanges(decoded, schema.fields, replay_id.toString('hex'), settings));
    }
    for (const change of changes) {
      if (change.actor !== null) change.actor = await actorName(change.actor);
    }
    const last = response.events.at(-1)?.replay_id ?? response.latest_replay_id;
    if (last.length > 0 && !(replayId !== null && last.equals(replayId))) {
      if (!(await handOver(changes, last))) return false;
      replayId = last;
    }
    delay = FIRST_RECONNECT_MS;
    return true;
  };

  const connect = async () => {
    timer = null;
    if (stopped) return;
    let s: Session;
    try {
      s = await session(ctx);
    } catch (err) {
      reconnectLater((err as Error).message);
      return;
    }
    if (stopped) return;
    const c = pubSubClient(pubSub.endpoint, pubSub.tls);
    const stream = c.Subscribe(metadataFor(s));
    client = c;
    call = stream;
    let ended = false;
    const end = (err: grpc.ServiceError | null) => {
      if (ended) return;
      ended = true;
      if (err?.code === grpc.status.UNAUTHENTICATED) invalidate(ctx, s);
      if (err?.code === grpc.status.INVALID_ARGUMENT && replayId !== null) {
        log?.error(
          { details: err.details },
          'Salesforce refused the stored replay id; replaying from the oldest event kept (polling covers anything older)',
        );
        replayId = null;
        fromEarliest = true;
      }
      c.close();
      reconnectLater(err ? `${grpc.status[err.code]}: ${err.details}` : 'the server ended the stream');
    };
    stream.on('data', (response: FetchResponse) => {
      work = work
        .then(async () => {
          if (ended || stopped || !(await handle(response, c, s))) return;
          if (!ended && response.events.length > 0) stream.write({ num_requested: response.events.length });
        })
        .catch((err: unknown) => {
          log?.warn(
            { err: (err as Error).message },
            'Salesforce change event not readable; resubscribing after the last handled replay id',
          );
          stream.cancel();
        });
    });
    stream.on('error', end);
    stream.on('end', () => end(null));
    stream.write({
      topic_name: pubSub.topic,
      replay_preset: replayId !== null ? 'CUSTOM' : fromEarliest ? 'EARLIEST' : 'LATEST',
      replay_id: replayId ?? Buffer.alloc(0),
      num_requested: BATCH,
    });
    log?.info({ topic: pubSub.topic, resume: replayId !== null, fromEarliest }, 'Salesforce Pub/Sub subscribed');
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      if (retryTimer !== null) clearTimeout(retryTimer);
      wakeUp?.();
      call?.cancel();
      await work;
      client?.close();
    },
  };
}

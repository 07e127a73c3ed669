import { createHash, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import avro from 'avsc';
import { pubSubService, type FetchRequest, type FetchResponse } from './pubsub-proto.js';

const nullable = (type: string) => ({ type: ['null', type], default: null });

/** The Case fields the stand-in's CaseChangeEvent carries, in schema order after ChangeEventHeader. */
export const CDC_CASE_FIELDS = [
  ['CaseNumber', 'string'],
  ['Subject', 'string'],
  ['Description', 'string'],
  ['Status', 'string'],
  ['Priority', 'string'],
  ['Origin', 'string'],
  ['IsClosed', 'boolean'],
  ['Service__c', 'string'],
  ['AlertFingerprint__c', 'string'],
  ['LastModifiedDate', 'long'],
  ['LastModifiedById', 'string'],
] as const;

/** A CaseChangeEvent schema shaped like Salesforce's: a ChangeEventHeader record, then every field nullable. */
const SCHEMA = {
  type: 'record',
  name: 'CaseChangeEvent',
  namespace: 'com.sforce.eventbus',
  fields: [
    {
      name: 'ChangeEventHeader',
      type: {
        type: 'record',
        name: 'ChangeEventHeader',
        fields: [
          { name: 'entityName', type: 'string' },
          { name: 'recordIds', type: { type: 'array', items: 'string' } },
          {
            name: 'changeType',
            type: {
              type: 'enum',
              name: 'ChangeType',
              symbols: ['CREATE', 'DELETE', 'UNDELETE', 'UPDATE', 'GAP_CREATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_UPDATE', 'GAP_OVERFLOW'],
            },
          },
          { name: 'changeOrigin', type: 'string' },
          { name: 'transactionKey', type: 'string' },
          { name: 'sequenceNumber', type: 'int' },
          { name: 'commitTimestamp', type: 'long' },
          { name: 'commitNumber', type: 'long' },
          { name: 'commitUser', type: 'string' },
          { name: 'nulledFields', type: { type: 'array', items: 'string' } },
          { name: 'diffFields', type: { type: 'array', items: 'string' } },
          { name: 'changedFields', type: { type: 'array', items: 'string' } },
        ],
      },
    },
    ...CDC_CASE_FIELDS.map(([name, type]) => ({ name, ...nullable(type) })),
  ],
};
export const CDC_SCHEMA_JSON = JSON.stringify(SCHEMA);
const caseEventType = avro.Type.forSchema(SCHEMA as avro.Schema);
const SCHEMA_FIELDS = ['ChangeEventHeader', ...CDC_CASE_FIELDS.map(([name]) => name)];
export const CDC_SCHEMA_ID = createHash('sha256').update(CDC_SCHEMA_JSON).digest('base64url').slice(0, 22);
const TOPICS = new Set(['/data/CaseChangeEvent', '/data/ChangeEvents']);

/** The Pub/Sub bitmap for top-level field names: bit i = schema field i. */
export function fieldBitmap(names: readonly string[], schemaFields: readonly string[] = SCHEMA_FIELDS): string {
  let bits = 0n;
  for (const name of names) {
    const i = schemaFields.indexOf(name);
    if (i < 0) throw new Error(`no field ${name} in the CaseChangeEvent schema`);
    bits |= 1n << BigInt(i);
  }
  return `0x${bits.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** A Case change as the stand-in records it. */
export interface CaseChange {
  changeType: 'CREATE' | 'UPDATE';
  recordId: string;
  commitUserId: string;
  /** The fields that changed (all set fields on CREATE) and their new values. */
  values: Record<string, unknown>;
}

/** Avro-encodes a change as a CaseChangeEvent. */
export function encodeCaseChange(change: CaseChange, commitNumber: number, nowMs: number): Buffer {
  const known = new Set(SCHEMA_FIELDS);
  const changed = Object.keys(change.values).filter((name) => known.has(name));
  const record: Record<string, unknown> = {
    ChangeEventHeader: {
      entityName: 'Case',
      recordIds: [change.recordId],
      changeType: change.changeType,
      changeOrigin: 'com/salesforce/api/rest/62.0',
      transactionKey: randomUUID(),
      sequenceNumber: 1,
      commitTimestamp: nowMs,
      commitNumber,
      commitUser: change.commitUserId,
      nulledFields: [],
      diffFields: [],
      changedFields: change.changeType === 'UPDATE' ? [fieldBitmap(changed)] : [],
    },
  };
  for (const [name] of CDC_CASE_FIELDS) record[name] = name in change.values ? (change.values[name] ?? null) : null;
  return caseEventType.toBuffer(record);
}

interface Subscriber {
  call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>;
  /** Index of the next event in the log to send. */
  position: number;
  credit: number;
}

const replayIdOf = (seq: number) => {
  const id = Buffer.alloc(8);
  id.writeBigUInt64BE(BigInt(seq));
  return id;
};

/**
 * The Pub/Sub API's Subscribe and GetSchema over real gRPC (insecure, loopback): checks the
 * accesstoken / instanceurl / tenantid headers, the topic and the replay id, honours num_requested,
 * and sends Avro CaseChangeEvents with 8-byte replay ids.
 */
export async function startPubSubStandIn(opts: { authorised: (metadata: grpc.Metadata) => string | null; now: () => Date }): Promise<{
  address: string;
  publish(change: CaseChange): void;
  dropSubscribers(): void;
  subscriberCount(): number;
  close(): Promise<void>;
}> {
  const log: { replayId: Buffer; payload: Buffer }[] = [];
  const subscribers = new Set<Subscriber>();
  const server = new grpc.Server();

  const deliver = (s: Subscriber) => {
    const count = Math.min(s.credit, log.length - s.position);
    if (count <= 0) return;
    const events = log
      .slice(s.position, s.position + count)
      .map((e) => ({ event: { id: randomUUID(), schema_id: CDC_SCHEMA_ID, payload: e.payload, headers: [] }, replay_id: e.replayId }));
    s.position += count;
    s.credit -= count;
    s.call.write({ events, latest_replay_id: events.at(-1)!.replay_id, rpc_id: randomUUID(), pending_num_requested: s.credit });
  };

  const refuse = (call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>, code: grpc.status, details: string) => {
    call.emit('error', { code, details });
  };

  server.addService(pubSubService, {
    Subscribe(call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>) {
      const problem = opts.authorised(call.metadata);
      if (problem !== null) return refuse(call, grpc.status.UNAUTHENTICATED, problem);
      let subscriber: Subscriber | null = null;
      call.on('data', (request: FetchRequest) => {
        if (subscriber === null) {
          if (!TOPICS.has(request.topic_name ?? '')) return refuse(call, grpc.status.NOT_FOUND, `topic not found: ${request.topic_name}`);
          let position = log.length;
          if (request.replay_preset === 'EARLIEST') position = 0;
          if (request.replay_preset === 'CUSTOM') {
            const at = log.findIndex((e) => request.replay_id !== undefined && e.replayId.equals(request.replay_id));
            if (at < 0) return refuse(call, grpc.status.INVALID_ARGUMENT, 'The Replay ID validation failed');
            position = at + 1;
          }
          subscriber = { call, position, credit: 0 };
          subscribers.add(subscriber);
        } else if (request.topic_name && !TOPICS.has(request.topic_name)) {
          return refuse(call, grpc.status.INVALID_ARGUMENT, 'the topic may not change within a subscription');
        }
        subscriber.credit += Math.max(0, request.num_requested ?? 0);
        deliver(subscriber);
      });
      const leave = () => {
        if (subscriber) subscribers.delete(subscriber);
      };
      call.on('cancelled', leave);
      call.on('error', leave);
      call.on('end', () => {
        leave();
        call.end();
      });
    },
    GetSchema(call: grpc.ServerUnaryCall<{ schema_id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const problem = opts.authorised(call.metadata);
      if (problem !== null) return callback({ code: grpc.status.UNAUTHENTICATED, details: problem });
      if (call.request.schema_id !== CDC_SCHEMA_ID)
        return callback({ code: grpc.status.NOT_FOUND, details: `no schema ${call.request.schema_id}` });
      callback(null, { schema_json: CDC_SCHEMA_JSON, schema_id: CDC_SCHEMA_ID, rpc_id: randomUUID() });
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );

  return {
    address: `127.0.0.1:${port}`,
    publish(change) {
      const seq = log.length + 1;
      log.push({ replayId: replayIdOf(seq), payload: encodeCaseChange(change, seq, opts.now().getTime()) });
      for (const s of subscribers) deliver(s);
    },
    dropSubscribers() {
      for (const s of subscribers) refuse(s.call, grpc.status.UNAVAILABLE, 'stand-in dropped the stream');
      subscribers.clear();
    },
    subscriberCount: () => subscribers.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

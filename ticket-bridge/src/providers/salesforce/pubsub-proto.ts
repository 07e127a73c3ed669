import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** eventbus.v1 messages as @grpc/proto-loader hands them over (field names as in the proto, bytes as Buffer). */
export interface FetchRequest {
  topic_name?: string;
  replay_preset?: 'LATEST' | 'EARLIEST' | 'CUSTOM';
  replay_id?: Buffer;
  num_requested?: number;
}
export interface ConsumerEvent {
  event: { id: string; schema_id: string; payload: Buffer };
  replay_id: Buffer;
}
export interface FetchResponse {
  events: ConsumerEvent[];
  latest_replay_id: Buffer;
  rpc_id: string;
  pending_num_requested: number;
}
export interface SchemaInfo {
  schema_json: string;
  schema_id: string;
}

const definition = protoLoader.loadSync(fileURLToPath(new URL('./pubsub_api.proto', import.meta.url)), {
  keepCase: true,
  enums: String,
  longs: String,
  defaults: true,
});
const PubSub = (grpc.loadPackageDefinition(definition) as unknown as { eventbus: { v1: { PubSub: grpc.ServiceClientConstructor } } })
  .eventbus.v1.PubSub;

/** The PubSub service definition (the stand-in serves it). */
export const pubSubService = PubSub.service;

/** A typed client of the two RPCs used. */
export interface PubSubClient {
  Subscribe(metadata: grpc.Metadata): grpc.ClientDuplexStream<FetchRequest, FetchResponse>;
  GetSchema(
    request: { schema_id: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, info?: SchemaInfo) => void,
  ): void;
  close(): void;
}

export function pubSubClient(endpoint: string, tls: boolean): PubSubClient {
  return new PubSub(endpoint, tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure()) as unknown as PubSubClient;
}

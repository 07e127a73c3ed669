import type { ServiceDefinition } from '@grpc/grpc-js';

/**
 * A request whose bytes did not decode (a Timestamp's seconds beyond JavaScript's safe integers,
 * a broken wire format). grpc-js answers a throwing decoder with INTERNAL; the handler answers
 * this with INVALID_ARGUMENT instead (handlers.ts), as any other bad input.
 */
export class Undecodable {
  constructor(readonly reason: string) {}
}

/** The service with decoders that return Undecodable instead of throwing (unary and server-streaming methods). */
export function decodingChecked<S extends ServiceDefinition>(definition: S): S {
  const methods = Object.entries(definition).map(([name, method]) => {
    if (method.requestStream) return [name, method];
    const decode = method.requestDeserialize;
    const requestDeserialize = (bytes: Buffer): unknown => {
      try {
        return decode(bytes);
      } catch (err) {
        return new Undecodable(err instanceof Error ? err.message : String(err));
      }
    };
    return [name, { ...method, requestDeserialize }];
  });
  return Object.fromEntries(methods) as S;
}

/**
 * The service with one server-streaming method whose handler writes each message as its wire
 * bytes already (ListAlerts: alert-bytes.ts): its response serializer passes the Buffers through.
 */
export function preEncoded<S extends ServiceDefinition>(definition: S, method: keyof S & string): S {
  return { ...definition, [method]: { ...definition[method], responseSerialize: (bytes: Buffer) => bytes } };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, credentials, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { pipelineWrites } from './pipelined-writes.js';

/** A real grpc-js server with one server-streaming method writing 300 numbered messages at once. */
describe('pipelineWrites on the installed grpc-js', () => {
  const server = new Server();
  let applied: boolean | null = null;
  let port = 0;
  const text = (b: Buffer): string => b.toString();
  const bytes = (s: string): Buffer => Buffer.from(s);

  beforeAll(async () => {
    server.addService(
      {
        numbers: {
          path: '/test.Numbers/Stream',
          requestStream: false,
          responseStream: true,
          requestSerialize: bytes,
          requestDeserialize: text,
          responseSerialize: bytes,
          responseDeserialize: text,
        },
      },
      {
        numbers: (call: ServerWritableStream<string, string>) => {
          applied = pipelineWrites(call);
          for (let i = 0; i < 300; i++) call.write(String(i));
          call.end();
        },
      },
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  });
  afterAll(() => server.forceShutdown());

  it('still finds the internal it relies on, and every message arrives once, in order', async () => {
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    const got: string[] = [];
    for await (const m of client.makeServerStreamRequest('/test.Numbers/Stream', bytes, text, 'go') as AsyncIterable<string>) got.push(m);
    client.close();
    // false: a grpc-js upgrade removed ServerWritableStreamImpl.call.sendMessage; streams then send one message per turn (docs/performance.md, bench:query).
    expect(applied).toBe(true);
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
  });
});

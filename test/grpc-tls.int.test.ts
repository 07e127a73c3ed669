import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { generate } from 'selfsigned';
import { alertingV1 } from '@oncall/contracts/grpc';
import { startGrpcServer } from '@oncall/query-api';
import { bearerToken, loadConfig } from '@oncall/shared';
import { testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

describe('query-api over mTLS', () => {
  let p: TestPipeline;
  let server: { port: number; stop: () => Promise<void> };
  let pems: Awaited<ReturnType<typeof generate>>;

  beforeAll(async () => {
    p = await startTestPipeline();
    // A self-signed CA that is also the server's certificate, and a client certificate it signed.
    pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      clientCertificate: { cn: 'noc-dashboard', keyType: 'ec', algorithm: 'sha256' },
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    const { state } = await loadConfig(p.admin);
    server = await startGrpcServer({
      pool: p.pool,
      port: 0,
      host: '127.0.0.1',
      log: testLog,
      tokens: (id) => state.apiTokens.get(id),
      tls: { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), clientCa: Buffer.from(pems.cert) },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await p?.stop();
  });

  const getAlertCode = (creds: ChannelCredentials, token: string | undefined): Promise<number> => {
    const client = new alertingV1.AlertServiceClient(`localhost:${server.port}`, creds, bearerToken(token));
    return new Promise<number>((resolve) => {
      client.getAlert({ id: 'not-a-uuid' }, new Metadata(), { deadline: Date.now() + 5000 }, (err: ServiceError | null) => {
        client.close();
        resolve(err ? err.code : status.OK);
      });
    });
  };

  it('answers a client with a certificate the CA signed and a token', async () => {
    const creds = credentials.createSsl(Buffer.from(pems.cert), Buffer.from(pems.clientprivate!), Buffer.from(pems.clientcert!));
    expect(await getAlertCode(creds, p.token)).toBe(status.INVALID_ARGUMENT);
  });

  it('still wants the token over mTLS', async () => {
    const creds = credentials.createSsl(Buffer.from(pems.cert), Buffer.from(pems.clientprivate!), Buffer.from(pems.clientcert!));
    expect(await getAlertCode(creds, undefined)).toBe(status.UNAUTHENTICATED);
  });

  it('refuses a client without a certificate', async () => {
    expect(await getAlertCode(credentials.createSsl(Buffer.from(pems.cert)), p.token)).toBe(status.UNAVAILABLE);
  });

  it('refuses a plaintext client', async () => {
    expect(await getAlertCode(credentials.createInsecure(), p.token)).toBe(status.UNAVAILABLE);
  });
});

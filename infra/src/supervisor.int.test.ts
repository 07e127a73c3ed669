import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, registry } from '@oncall/shared';
import { SupervisedService } from './supervisor.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const log = createLogger('test', 'silent');
const quick = { initialDelayMs: 10, maxDelayMs: 40, healthyAfterMs: 60_000, crashLimit: 3, windowMs: 60_000 };

/** A fake service (test/fixtures/fake-service.ts) under supervision; its output is kept, not printed. */
function fake(mode: string, onKeepsDying: (line: string) => void = () => undefined) {
  let output = '';
  const sink = new PassThrough().on('data', (chunk: Buffer) => (output += chunk.toString()));
  const service = new SupervisedService(
    { name: `fake-${mode}`, entry: 'test/fixtures/fake-service.ts', env: { ...process.env, FAKE_SERVICE_MODE: mode, LOG_LEVEL: 'info' } },
    { cwd: ROOT, log, onKeepsDying, policy: quick, stdout: sink, stderr: sink },
  );
  return { service, output: () => output };
}

describe('SupervisedService', () => {
  it('restarts a service that keeps exiting, counts it, and says once, in one line, that it keeps dying', async () => {
    let keepsDying: (line: string) => void = () => undefined;
    const said = new Promise<string>((resolve) => (keepsDying = resolve));
    const { service, output } = fake('crash', (line) => keepsDying(line));
    await service.start();
    const line = await said;
    await service.stop(2000);
    expect(line).toBe(
      'fake-crash keeps dying (3 exits within 60 s; last: exit code 3, boom: out of cheese); restarting it with back-off up to 0.04 s',
    );
    expect(output()).toContain('[fake-crash] boom: out of cheese\n');
    const restarts = (await registry.getSingleMetric('oncall_up_restarts_total')!.get()).values.find(
      (v) => v.labels.service === 'fake-crash',
    );
    expect(restarts?.value).toBeGreaterThanOrEqual(2);
  });

  it('fails the start with the service’s own error when it exits before it is ready', async () => {
    const { service } = fake('fail-start');
    await expect(service.start()).rejects.toThrow(
      'fake-fail-start exited with exit code 1 before it was ready: fake failed to start: FAKE_SETTING: required',
    );
  });

  it('kills a service that does not stop within its grace time', async () => {
    const { service } = fake('stubborn');
    await service.start();
    const pid = service.pid!;
    const t0 = Date.now();
    await service.stop(300);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

import { Counter } from 'prom-client';
import { registry, type Logger } from '@oncall/shared';
import { DEFAULT_RESTART_POLICY, initialRestartState, onExit, type RestartPolicy } from './domain/restarts.js';
import { describeExit, type Exit } from './processes.js';

const exitedWith = (e: Exit) => `exited on its own (${describeExit(e)})`;

const restarts = new Counter({
  name: 'oncall_up_infrastructure_restarts_total',
  help: 'Times oncall up started nats-server or PostgreSQL again after it exited on its own',
  labelNames: ['part'],
  registers: [registry],
});

/** A server process as the starters in nats-server.ts and postgres.ts return it. */
export type ServerProcess = { exited: Promise<Exit>; stop: (graceMs?: number) => Promise<void> };

/**
 * Keeps nats-server or PostgreSQL of the embedded default running: when it exits on its own
 * (killed, crashed), it is started again on the same port and data folder after a back-off
 * (domain/restarts.ts), logged and counted; the services reconnect by themselves. When it keeps
 * dying, `onKeepsDying` gets one readable line, and it is still tried with the longest back-off.
 */
export class KeptRunning<T extends ServerProcess> {
  private process: T | undefined;
  private stopping = false;
  private state = initialRestartState;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(
    readonly name: string,
    private readonly starter: () => Promise<T>,
    private readonly opts: { log: Logger; onKeepsDying: (line: string) => void; policy?: RestartPolicy },
  ) {}

  get current(): T | undefined {
    return this.process;
  }

  /** The first start; its failure is the caller's. */
  async start(): Promise<T> {
    const p = await this.starter();
    this.watch(p);
    return p;
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.process?.stop(graceMs);
  }

  private watch(p: T): void {
    this.process = p;
    this.startedAt = Date.now();
    void p.exited.then((exit) => this.onExit(exitedWith(exit)));
  }

  private onExit(what: string): void {
    if (this.stopping) return;
    const policy = this.opts.policy ?? DEFAULT_RESTART_POLICY;
    const now = Date.now();
    const decision = onExit(this.state, { now, readyForMs: now - this.startedAt }, Math.random(), policy);
    this.state = decision.state;
    this.opts.log.error(
      { part: this.name, exit: what, restartInMs: decision.delayMs },
      `${this.name} ${what}; starting it again in ${(decision.delayMs / 1000).toFixed(1)} s`,
    );
    if (decision.report) this.opts.onKeepsDying(`${this.name} keeps dying (last: ${what}); starting it again with back-off`);
    this.timer = setTimeout(() => void this.restart(), decision.delayMs);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    restarts.inc({ part: this.name });
    try {
      const p = await this.starter();
      if (this.stopping) {
        await p.stop();
        return;
      }
      this.watch(p);
      this.opts.log.warn({ part: this.name }, `${this.name} is running again`);
    } catch (err) {
      this.onExit(`did not start: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Counter } from 'prom-client';
import { registry, type Logger } from '@oncall/shared';
import type { SupervisorMessage } from '@oncall/shared/run';
import { DEFAULT_RESTART_POLICY, initialRestartState, onExit, type RestartPolicy } from './domain/restarts.js';
import { describeExit, stopChild, tail } from './processes.js';
import { entryArgs } from './entry.js';

/** Node flags the services run with; see NODE_FLAGS in bench/processes.ts for the measurements. */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=32'];

const restarts = new Counter({
  name: 'oncall_up_restarts_total',
  help: 'Service processes oncall up started again after they exited on their own',
  labelNames: ['service'],
  registers: [registry],
});

/** A service exited before it said it was ready, the first time it was started. */
export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
}

export type ServiceSpec = Readonly<{ name: string; entry: string; env: NodeJS.ProcessEnv }>;

/**
 * One service as a child process of `oncall up`: `node --max-semi-space-size=32 --import tsx
 * <entry>` (or its build, entry.ts) in its own process group (a terminal's Ctrl-C reaches only the supervisor), with an
 * IPC channel over which it says it is ready and whose closing tells it the supervisor is gone.
 * Its log lines go to this process's stdout, its stderr to stderr. When it exits on its own it
 * is started again after a back-off (domain/restarts.ts); when it keeps dying, `onKeepsDying`
 * gets one readable line.
 */
export class SupervisedService {
  private child: ChildProcess | undefined;
  private readyAt: number | undefined;
  private everReady = false;
  private state = initialRestartState;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastError = '';
  private stderr = tail(2000);
  private started: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(
    readonly spec: ServiceSpec,
    private readonly opts: {
      cwd: string;
      log: Logger;
      onKeepsDying: (line: string) => void;
      /** Where its log lines and stderr go (this process's stdout and stderr). */
      stdout?: NodeJS.WritableStream;
      stderr?: NodeJS.WritableStream;
      policy?: RestartPolicy;
      random?: () => number;
    },
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process; resolves when it says it is ready, rejects with its last error if it exits first. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.started = { resolve, reject };
      this.launch();
    });
  }

  /** From now on an exit is not restarted (the whole pipeline is stopping; this service's turn may come later). */
  stopRestarting(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; no restart after. */
  async stop(graceMs: number): Promise<void> {
    this.stopRestarting();
    this.started?.reject(new ServiceStartError(`${this.spec.name} was stopped before it was ready`));
    const child = this.child;
    if (!child) return;
    const end = await stopChild(child, 'SIGTERM', graceMs);
    const part = this.spec.name;
    if (end.killed) this.opts.log.error({ part, graceMs }, `${part} did not stop in time and was killed`);
    else if (end.code !== 0) this.opts.log.warn({ part, exit: describeExit(end) }, `${part} stopped with ${describeExit(end)}`);
  }

  private launch(): void {
    const { name, entry, env } = this.spec;
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...entryArgs(entry, env)], {
      cwd: this.opts.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    this.readyAt = undefined;
    this.lastError = '';
    this.stderr = tail(2000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      (this.opts.stdout ?? process.stdout).write(`${line}\n`);
      if (/"level":(50|60)[,}]/.test(line)) this.lastError = errorOf(line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      (this.opts.stderr ?? process.stderr).write(`[${name}] ${line}\n`);
      this.stderr.add(`${line}\n`);
    });
    child.on('message', (m: Partial<SupervisorMessage>) => {
      if (m.type === 'ready') this.onReady(child);
    });
    child.on('error', (err) => this.opts.log.error({ err, part: name }, `${name}: ${err.message}`));
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => this.onClose(code, signal));
  }

  private onReady(child: ChildProcess): void {
    this.readyAt = Date.now();
    if (!this.everReady) {
      this.everReady = true;
      this.started?.resolve();
      this.started = undefined;
      return;
    }
    this.opts.log.warn({ part: this.spec.name, pid: child.pid }, `${this.spec.name} is running again`);
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const name = this.spec.name;
    const exit = describeExit({ code, signal });
    const lastError = this.lastError || this.stderr.text().trim().split('\n').at(-1) || 'it logged no error';
    if (!this.everReady) {
      this.started?.reject(new ServiceStartError(`${name} exited with ${exit} before it was ready: ${lastError}`));
      this.started = undefined;
      return;
    }
    const policy = this.opts.policy ?? DEFAULT_RESTART_POLICY;
    const now = Date.now();
    const decision = onExit(
      this.state,
      { now, readyForMs: this.readyAt === undefined ? 0 : now - this.readyAt },
      (this.opts.random ?? Math.random)(),
      policy,
    );
    this.state = decision.state;
    this.opts.log.warn(
      { part: name, code, signal, restartInMs: decision.delayMs, lastError, stderr: this.stderr.text() || undefined },
      `${name} exited with ${exit}; restarting it in ${(decision.delayMs / 1000).toFixed(1)} s`,
    );
    if (decision.report) {
      this.opts.onKeepsDying(
        `${name} keeps dying (${policy.crashLimit} exits within ${policy.windowMs / 1000} s; last: ${exit}, ${lastError}); ` +
          `restarting it with back-off up to ${policy.maxDelayMs / 1000} s`,
      );
    }
    this.restartTimer = setTimeout(() => {
      restarts.inc({ service: name });
      this.launch();
    }, decision.delayMs);
  }
}

/** The message of an error log line (and its error's, when the message does not carry it). */
function errorOf(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    const msg = entry.msg ?? '';
    const err = entry.err?.message;
    return err && !msg.includes(err) ? `${msg}: ${err}` : msg;
  } catch {
    return line;
  }
}

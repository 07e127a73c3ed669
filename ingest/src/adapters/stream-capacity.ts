import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Gauge } from 'prom-client';
import { STREAMS } from '@oncall/contracts';
import { registry, type Logger } from '@oncall/shared';

const fill = new Gauge({
  name: 'oncall_stream_fill_ratio',
  help: 'How full each stream is: stored bytes / its byte limit (streams refuse new messages at 1)',
  labelNames: ['stream'],
  registers: [registry],
});

/**
 * Watches how full the streams are (every `everyMs`), so ingest can answer 503 + Retry-After
 * before INTAKE refuses appends, and so `oncall_stream_fill_ratio` says which stream is filling
 * before anything fails. Streams refuse new messages when full (they never drop accepted ones).
 */
export class StreamCapacity {
  private ratios = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly opts: { everyMs: number; intakeThreshold: number } = { everyMs: 2000, intakeThreshold: 0.9 },
  ) {}

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.opts.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** INTAKE's fill ratio when it is past the threshold, else null. */
  intakeFull(): number | null {
    const ratio = this.ratios.get(STREAMS.intake) ?? 0;
    return ratio >= this.opts.intakeThreshold ? ratio : null;
  }

  private async check(): Promise<void> {
    try {
      const jsm = await jetstreamManager(this.nc);
      for (const name of Object.values(STREAMS)) {
        const info = await jsm.streams.info(name);
        const ratio = info.config.max_bytes > 0 ? info.state.bytes / info.config.max_bytes : 0;
        const before = this.ratios.get(name) ?? 0;
        this.ratios.set(name, ratio);
        fill.set({ stream: name }, ratio);
        if (ratio >= 0.8 && before < 0.8) this.log.warn({ stream: name, ratio }, 'stream is more than 80% full');
      }
    } catch (err) {
      // NATS down: appends fail on their own (503); the last known ratios stay.
      this.log.debug({ err }, 'stream capacity check failed');
    }
  }
}

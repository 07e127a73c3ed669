import { Agent, request } from 'undici';

export type LoadResult = { ok: number; failed: number; statuses: Record<number, number>; latenciesMs: number[]; seconds: number };

/**
 * Sends `bodies` to `url` over `connections` keep-alive connections, as fast as the server
 * answers or at `ratePerSecond` requests per second. `onAnswer` sees every 2xx.
 */
export async function runLoad(opts: {
  url: string;
  bodies: string[];
  connections: number;
  headers: Record<string, string>;
  ratePerSecond?: number;
  onAnswer?: (index: number, body: string) => void;
}): Promise<LoadResult> {
  const agent = new Agent({ connections: opts.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const result: LoadResult = { ok: 0, failed: 0, statuses: {}, latenciesMs: [], seconds: 0 };
  let next = 0;
  const started = performance.now();
  const interval = opts.ratePerSecond ? 1000 / opts.ratePerSecond : 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.bodies.length) return;
      if (interval) {
        const due = started + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const t0 = performance.now();
      try {
        const res = await request(opts.url, { method: 'POST', headers: opts.headers, body: opts.bodies[i], dispatcher: agent });
        const text = await res.body.text();
        result.latenciesMs.push(performance.now() - t0);
        result.statuses[res.statusCode] = (result.statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          result.ok++;
          opts.onAnswer?.(i, text);
        } else result.failed++;
      } catch {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  result.seconds = (performance.now() - started) / 1000;
  await agent.close();
  return result;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

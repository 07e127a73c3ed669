import { sampleRenderContext, type RenderContext } from './context.js';
import { EXAMPLE_TEMPLATE } from './examples.js';
import { createRenderer, type Renderer } from './renderer.js';
import { CHANNELS, type Channel, type RenderTemplate } from './types.js';

export type RenderBenchResult = Readonly<{ channel: Channel; renders: number; elapsedMs: number; rendersPerSecond: number }>;

export type RenderBenchOptions = Readonly<{
  template?: RenderTemplate | null;
  channels?: readonly Channel[];
  context?: RenderContext;
  /** Time spent per channel, after a short warm-up. */
  durationMs?: number;
  renderer?: Renderer;
}>;

/**
 * Renders/s per channel through the delivery path (cached parse, render, format): what
 * `npm run bench:dispatcher` reports for the render stage.
 */
export function benchRenders(options: RenderBenchOptions = {}): RenderBenchResult[] {
  const renderer = options.renderer ?? createRenderer();
  const template = options.template === undefined ? EXAMPLE_TEMPLATE : options.template;
  const context = options.context ?? sampleRenderContext();
  const durationMs = options.durationMs ?? 1000;
  return (options.channels ?? CHANNELS).map((channel) => {
    for (let i = 0; i < 50; i++) renderer.renderNotification(template, channel, context);
    let renders = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < durationMs) {
      for (let i = 0; i < 50; i++) renderer.renderNotification(template, channel, context);
      renders += 50;
      elapsed = performance.now() - start;
    }
    return { channel, renders, elapsedMs: elapsed, rendersPerSecond: (renders * 1000) / elapsed };
  });
}

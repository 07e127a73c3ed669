import { Context, Liquid, LiquidError, toValueSync, type Template } from 'liquidjs';
import { LimitExceededError, TemplateError } from './errors.js';
import { jsonStringBody, liquidText, safeJson, slackEscape, slackEscapeDeep } from './escape.js';
import type { TemplatePart } from './types.js';

/**
 * text: SMS, voice, email subject and text (no escaping). html: email HTML (every output
 * HTML-escaped). json: Teams and webhook (every output escaped as the inside of a JSON string).
 * slack: like json, and `& < >` become entities first so values cannot inject links or mentions.
 */
export type EngineKind = 'text' | 'html' | 'json' | 'slack';

export const PART_ENGINE: Readonly<Record<TemplatePart, EngineKind>> = {
  slack: 'slack',
  teams: 'json',
  webhook: 'json',
  emailHtml: 'html',
  emailSubject: 'text',
  emailText: 'text',
  sms: 'text',
  voice: 'text',
};

/** Guards against template bombs; each applies to one part rendered once. */
export type RenderLimits = Readonly<{
  /** Longest template source, in characters (checked before parsing). */
  maxSourceChars: number;
  /** liquid's allocation budget (ranges, arrays, string building), per render. */
  memoryLimit: number;
  /** Wall-clock budget per render, in milliseconds. */
  renderTimeMs: number;
  /** Longest output, in characters; rendering stops as soon as it is passed. */
  maxOutputChars: number;
}>;

export const DEFAULT_LIMITS: RenderLimits = {
  maxSourceChars: 64 * 1024,
  memoryLimit: 1_000_000,
  renderTimeMs: 100,
  maxOutputChars: 256 * 1024,
};

/** A variable the template reads from the context (not a loop or assigned local). */
export type VariableRef = Readonly<{
  /** As written, e.g. `labels.severity` or `labels['a.b']`. */
  name: string;
  /** Leading literal segments; stops at a computed index such as `labels[key]`. */
  path: readonly (string | number)[];
  line: number;
  column: number;
}>;

export type ParsedTemplate = Readonly<{
  kind: EngineKind;
  source: string;
  templates: Template[];
  variables: readonly VariableRef[];
}>;

// liquid's Context takes its own Limiter class; ours has the same two methods but throws a typed
// error, so limit failures are told apart without reading message text.
type LiquidLimiter = NonNullable<NonNullable<ConstructorParameters<typeof Context>[3]>['memoryLimit']>;

class MemoryLimiter {
  private used = 0;
  constructor(private readonly limit: number) {}
  use(count: number): void {
    if (!(+count > 0)) return;
    this.used += +count;
    if (this.used > this.limit)
      throw new LimitExceededError('memory', `memory limit exceeded (${this.limit} allocations): a loop or string is too big`);
  }
  check(_count: number): void {}
}

class TimeLimiter {
  constructor(
    private readonly deadline: number,
    private readonly ms: number,
  ) {}
  use(_count: number): void {}
  check(now: number): void {
    if (+now > this.deadline) throw new LimitExceededError('time', `render time limit exceeded (${this.ms} ms)`);
  }
}

/** Collects output and stops the render as soon as it grows past the cap. */
class CappedEmitter {
  buffer = '';
  constructor(private readonly max: number) {}
  write(html: unknown): void {
    this.buffer += liquidText(html);
    if (this.buffer.length > this.max) throw new LimitExceededError('output', `output limit exceeded (${this.max} characters)`);
  }
}

const POSITION_SUFFIX = /, line:\d+, col:\d+$/;

/** liquid's errors (and ours wrapped in them) as a TemplateError with the token's position. */
export function toTemplateError(err: unknown, phase: 'parse' | 'render'): TemplateError {
  if (err instanceof TemplateError) return err;
  if (err instanceof LimitExceededError)
    return new TemplateError({ code: 'LIMIT_EXCEEDED', message: err.message, limit: err.limit, cause: err });
  if (LiquidError.is(err)) {
    const [line = 0, column = 0] = err.token.getPosition();
    const original = err.originalError;
    if (original instanceof LimitExceededError) {
      return new TemplateError({ code: 'LIMIT_EXCEEDED', message: original.message, limit: original.limit, line, column, cause: err });
    }
    // liquid appends ", line:X, col:Y" to its messages; the position is reported separately.
    const message = (original?.message ?? err.message).replace(POSITION_SUFFIX, '');
    return new TemplateError({ code: phase === 'parse' ? 'INVALID_SYNTAX' : 'RENDER_FAILED', message, line, column, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TemplateError({ code: phase === 'parse' ? 'INVALID_SYNTAX' : 'RENDER_FAILED', message, cause: err });
}

function createLiquid(kind: EngineKind, limits: RenderLimits): Liquid {
  const outputEscape =
    kind === 'html'
      ? 'escape'
      : kind === 'json'
        ? jsonStringBody
        : kind === 'slack'
          ? (v: unknown) => jsonStringBody(slackEscape(liquidText(v)))
          : undefined;
  const engine = new Liquid({
    // An in-memory, empty template map: include/render/layout can never read the file system.
    templates: {},
    strictFilters: true,
    // strictVariables throws even under `default`; missing variables are reported as warnings instead.
    strictVariables: false,
    ownPropertyOnly: true,
    timezoneOffset: 0,
    parseLimit: limits.maxSourceChars,
    memoryLimit: limits.memoryLimit,
    renderLimit: limits.renderTimeMs,
    ...(outputEscape === undefined ? {} : { outputEscape }),
  });
  for (const tag of ['include', 'render', 'layout']) delete engine.tags[tag];
  // liquid's own `json` prints nothing for undefined, which breaks the surrounding JSON.
  if (kind === 'json') engine.registerFilter('json', { handler: (v: unknown, indent?: number) => safeJson(v, indent), raw: true });
  else if (kind === 'slack')
    engine.registerFilter('json', { handler: (v: unknown, indent?: number) => safeJson(slackEscapeDeep(v), indent), raw: true });
  else engine.registerFilter('json', (v: unknown, indent?: number) => safeJson(v, indent));
  return engine;
}

/** The four liquid engines, parsing and rendering under the limits. */
export class Engines {
  private readonly engines: Readonly<Record<EngineKind, Liquid>>;

  constructor(readonly limits: RenderLimits = DEFAULT_LIMITS) {
    this.engines = {
      text: createLiquid('text', limits),
      html: createLiquid('html', limits),
      json: createLiquid('json', limits),
      slack: createLiquid('slack', limits),
    };
  }

  /** Parses a source once; throws TemplateError (INVALID_SYNTAX, or LIMIT_EXCEEDED for size). */
  parse(kind: EngineKind, source: string): ParsedTemplate {
    if (source.length > this.limits.maxSourceChars) {
      throw new TemplateError({
        code: 'LIMIT_EXCEEDED',
        limit: 'source',
        message: `template is ${source.length} characters; the limit is ${this.limits.maxSourceChars}`,
      });
    }
    const engine = this.engines[kind];
    let templates: Template[];
    try {
      templates = engine.parse(source);
    } catch (err) {
      throw toTemplateError(err, 'parse');
    }
    return { kind, source, templates, variables: variableRefs(engine, templates) };
  }

  /**
   * Renders with fresh limiters and the output cap; throws TemplateError. A render over the time
   * limit is tried once more: the limit is wall time, and in a storm a render of a fraction of a
   * millisecond can outlast it in a major GC or while the process waits for a core (seen in
   * bench:dispatcher at load 13: the page went out with the default template). A template that
   * really runs away fails the second time too.
   */
  render(parsed: ParsedTemplate, scope: object): string {
    try {
      return this.renderOnce(parsed, scope);
    } catch (err) {
      if (!(err instanceof TemplateError && err.limit === 'time')) throw err;
      return this.renderOnce(parsed, scope);
    }
  }

  private renderOnce(parsed: ParsedTemplate, scope: object): string {
    const engine = this.engines[parsed.kind];
    const memoryLimit = new MemoryLimiter(this.limits.memoryLimit) as unknown as LiquidLimiter;
    const renderLimit = new TimeLimiter(performance.now() + this.limits.renderTimeMs, this.limits.renderTimeMs) as unknown as LiquidLimiter;
    const ctx = new Context(scope, engine.options, { sync: true }, { liquid: engine, memoryLimit, renderLimit });
    const emitter = new CappedEmitter(this.limits.maxOutputChars);
    try {
      toValueSync(engine.renderer.renderTemplates(parsed.templates, ctx, emitter));
    } catch (err) {
      throw toTemplateError(err, 'render');
    }
    return emitter.buffer;
  }
}

function variableRefs(engine: Liquid, templates: Template[]): VariableRef[] {
  const { globals } = engine.analyzeSync(templates, { partials: false });
  const seen = new Map<string, VariableRef>();
  for (const vars of Object.values(globals)) {
    for (const v of vars) {
      const name = v.toString();
      if (seen.has(name)) continue;
      const path: (string | number)[] = [];
      for (const seg of v.segments) {
        if (typeof seg !== 'string' && typeof seg !== 'number') break;
        path.push(seg);
      }
      seen.set(name, { name, path, line: v.location.row, column: v.location.col });
    }
  }
  return [...seen.values()].sort((a, b) => a.line - b.line || a.column - b.column);
}

type CacheEntry = Readonly<{ source: string; result: ParsedTemplate | TemplateError }>;

/**
 * Parsed templates keyed by (templateId, version, part), least recently used evicted first.
 * Published versions are immutable; the source is compared anyway so a draft previewed under the
 * same key is re-parsed when it changes. Parse errors are cached too.
 */
export class TemplateCache {
  private readonly entries = new Map<string, CacheEntry>();
  hits = 0;
  misses = 0;

  constructor(readonly maxEntries = 1000) {}

  get size(): number {
    return this.entries.size;
  }

  getOrParse(templateId: string, version: number, part: TemplatePart, source: string, parse: () => ParsedTemplate): ParsedTemplate {
    const key = `${templateId}\u0000${version}\u0000${part}`;
    let entry = this.entries.get(key);
    this.entries.delete(key);
    if (entry !== undefined && entry.source === source) {
      this.hits += 1;
    } else {
      this.misses += 1;
      try {
        entry = { source, result: parse() };
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        entry = { source, result: err };
      }
    }
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    if (entry.result instanceof TemplateError) throw entry.result;
    return entry.result;
  }

  clear(): void {
    this.entries.clear();
  }
}

import type { Channel, TemplatePart } from './types.js';

export type TemplateErrorCode =
  /** The source does not parse (bad tag, unclosed output, unknown filter or tag) or is too long. */
  | 'INVALID_SYNTAX'
  /** Rendering threw (a filter failed on its input, …). */
  | 'RENDER_FAILED'
  /** A render limit stopped the template: see `limit`. */
  | 'LIMIT_EXCEEDED'
  /** The rendered output is not what the channel needs (invalid JSON, wrong shape). */
  | 'INVALID_OUTPUT'
  /** A variable the template declares required is absent from the render context. */
  | 'MISSING_VARIABLE';

export type TemplateLimit = 'source' | 'memory' | 'time' | 'output';

export type TemplateErrorInit = Readonly<{
  code: TemplateErrorCode;
  message: string;
  line?: number;
  column?: number;
  channel?: Channel | null;
  field?: TemplatePart | null;
  limit?: TemplateLimit | null;
  cause?: unknown;
}>;

/**
 * Why a template part could not be used. `line`/`column` are 1-based positions in the template
 * source, 0 when the problem has no position (invalid output, a missing required variable).
 * `message` is the reason without the position.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly code: TemplateErrorCode;
  readonly line: number;
  readonly column: number;
  readonly channel: Channel | null;
  readonly field: TemplatePart | null;
  readonly limit: TemplateLimit | null;

  constructor(init: TemplateErrorInit) {
    super(init.message, { cause: init.cause });
    this.code = init.code;
    this.line = init.line ?? 0;
    this.column = init.column ?? 0;
    this.channel = init.channel ?? null;
    this.field = init.field ?? null;
    this.limit = init.limit ?? null;
  }

  /** The same error attributed to a channel and part (the engine does not know them). */
  at(channel: Channel, field: TemplatePart): TemplateError {
    const { code, message, line, column, limit, cause } = this;
    return new TemplateError({ code, message, line, column, limit, cause, channel, field });
  }

  /** `emailHtml:3:14: message`, for logs and warnings. */
  describe(): string {
    const where = this.line > 0 ? `${this.field ?? 'template'}:${this.line}:${this.column}` : (this.field ?? 'template');
    return `${where}: ${this.message}`;
  }
}

/** Thrown by the renderer's own limiters and output cap; liquid wraps it, the engine unwraps it. */
export class LimitExceededError extends Error {
  override readonly name = 'LimitExceededError';
  constructor(
    readonly limit: TemplateLimit,
    message: string,
  ) {
    super(message);
  }
}

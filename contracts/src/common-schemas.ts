import { z } from 'zod';

export const LabelMap = z.record(z.string(), z.string());
export const Severity = z.enum(['critical', 'error', 'warning', 'info', 'unknown']);
export type Severity = z.infer<typeof Severity>;
export const Link = z.object({ href: z.string(), text: z.string() });
export type Link = z.infer<typeof Link>;
export const isoTime = z.string().datetime({ offset: true });

/**
 * Where a person acted from: every command names it, and so does the lifecycle event it caused.
 * `ticket` is a ticket provider (a ticket closed in Jira resolves its alert). `system` is the pipeline itself (an ack timeout, a snooze ending).
 */
export const Surface = z.enum(['api', 'cli', 'slack', 'sms', 'voice', 'email', 'teams', 'web', 'ticket', 'console', 'system']);
export type Surface = z.infer<typeof Surface>;

import { z } from 'zod';

export const LabelMap = z.record(z.string(), z.string());
export const Severity = z.enum(['critical', 'error', 'warning', 'info', 'unknown']);
export type Severity = z.infer<typeof Severity>;
export const Link = z.object({ href: z.string(), text: z.string() });
export type Link = z.infer<typeof Link>;
export const isoTime = z.string().datetime({ offset: true });

import type { Severity } from '@oncall/contracts';

// A Map, not an object: words like 'constructor' or '__proto__' must not find built-ins.
const BY_WORD: ReadonlyMap<string, Severity> = new Map(
  Object.entries({
    critical: 'critical',
    crit: 'critical',
    page: 'critical',
    emergency: 'critical',
    fatal: 'critical',
    p1: 'critical',
    sev1: 'critical',
    high: 'critical',
    error: 'error',
    err: 'error',
    major: 'error',
    p2: 'error',
    sev2: 'error',
    warning: 'warning',
    warn: 'warning',
    minor: 'warning',
    medium: 'warning',
    p3: 'warning',
    sev3: 'warning',
    info: 'info',
    informational: 'info',
    notice: 'info',
    low: 'info',
    none: 'info',
    p4: 'info',
    p5: 'info',
    sev4: 'info',
  } satisfies Record<string, Severity>),
);

/**
 * Maps the words monitoring tools use for severity onto our five levels. Unrecognised or
 * missing words give 'unknown' (routing rules may still decide on the raw label).
 */
export function normaliseSeverity(word: string | undefined): Severity {
  if (word === undefined) return 'unknown';
  return BY_WORD.get(word.trim().toLowerCase()) ?? 'unknown';
}

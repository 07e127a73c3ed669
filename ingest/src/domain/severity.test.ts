import { describe, expect, it } from 'vitest';
import type { Severity } from '@oncall/contracts';
import { normaliseSeverity } from './severity.js';

describe('normaliseSeverity', () => {
  it.each<[string | undefined, Severity]>([
    ['critical', 'critical'],
    ['constructor', 'unknown'],
    ['__proto__', 'unknown'],
    ['toString', 'unknown'],
    ['page', 'critical'],
    ['P1', 'critical'],
    ['sev1', 'critical'],
    ['High', 'critical'],
    ['  CRITICAL\t', 'critical'],
    ['error', 'error'],
    ['major', 'error'],
    ['Error ', 'error'],
    ['warning', 'warning'],
    ['warn', 'warning'],
    ['minor', 'warning'],
    ['WARNING', 'warning'],
    ['info', 'info'],
    ['low', 'info'],
    [' Info', 'info'],
    [undefined, 'unknown'],
    ['', 'unknown'],
    ['   ', 'unknown'],
    ['bananas', 'unknown'],
    ['toString', 'unknown'],
    ['p 1', 'unknown'],
  ])('%j → %s', (word, expected) => {
    expect(normaliseSeverity(word)).toBe(expected);
  });
});

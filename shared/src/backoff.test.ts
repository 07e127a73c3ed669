import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.js';

describe('back-off with full jitter', () => {
  const b = { baseMs: 100, maxMs: 1000 };
  it.each([
    [1, 0.999, 99],
    [2, 0.999, 199],
    [3, 0.5, 200],
    [4, 0.999, 799],
    [5, 0.999, 999],
    [50, 0.999, 999],
    [1, 0, 10],
    [0, 0.5, 50],
  ])('attempt %i, random %f → %i ms', (attempt, random, ms) => {
    expect(backoffMs(attempt, random, b)).toBe(ms);
  });
});

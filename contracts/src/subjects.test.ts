import { describe, expect, it } from 'vitest';
import { partitionOf, partitionOfSubject, subjects, subjectToken } from './subjects.js';

describe('partitionOf', () => {
  it('is deterministic', () => {
    expect(partitionOf('svc', 'fp-1', 8)).toBe(partitionOf('svc', 'fp-1', 8));
  });

  it('depends on the service as well as the fingerprint', () => {
    const differs = Array.from({ length: 50 }, (_, i) => partitionOf('a', `fp-${i}`, 8) !== partitionOf('b', `fp-${i}`, 8));
    expect(differs).toContain(true);
  });

  it.each([1, 2, 3, 7, 8, 16, 64])('is an integer in [0, %i) for many inputs', (partitions) => {
    for (let i = 0; i < 2000; i++) {
      const p = partitionOf(`svc-${i % 7}`, `fingerprint-${i}-${'x'.repeat(i % 13)}`, partitions);
      expect(Number.isInteger(p) && p >= 0 && p < partitions, `${i} → ${p}`).toBe(true);
    }
  });

  it('spreads 10k fingerprints over 8 partitions evenly (10%–15% each)', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const p = partitionOf('svc', `fp-${i}`, 8);
      counts[p] = counts[p]! + 1;
    }
    for (const c of counts) {
      expect(c).toBeGreaterThanOrEqual(1000);
      expect(c).toBeLessThanOrEqual(1500);
    }
  });
});

describe('partitionOfSubject', () => {
  it.each<[string, number]>([
    ['alerts.3.x', 3],
    ['alerts.0.11111111-1111-4111-8111-111111111111', 0],
    ['intake.12', 12],
    [subjects.intake(5), 5],
    [subjects.alert(7, 'a1'), 7],
  ])('%s → %i', (subject, partition) => {
    expect(partitionOfSubject(subject)).toBe(partition);
  });

  it.each([
    'alerts.x.y',
    'alerts',
    'intake.-1',
    'intake.2x',
    'config.service.svc',
    'alerts..x',
    'alerts.1e1.x',
    'alerts. 3.x',
    'alerts.0x3.x',
  ])('%s throws', (subject) => {
    expect(() => partitionOfSubject(subject)).toThrow(`subject ${subject} carries no partition`);
  });
});

describe('subjectToken', () => {
  it.each([
    ['alice', 'alice'],
    ['a_b-c@example', 'a_b-c@example'],
    ['bob.smith', 'x-626f622e736d697468'],
    ['a b', 'x-612062'],
    ['*', 'x-2a'],
    ['é', 'x-c3a9'],
  ])('%j → %s (one token, no wildcards)', (id, token) => {
    expect(subjectToken(id)).toBe(token);
    expect(subjects.userRules(id)).toBe(`config.rules.${token}`);
    expect(subjects.handoff(id)).toBe(`escalations.handoffs.${token}`);
  });
});

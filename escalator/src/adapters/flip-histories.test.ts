import { describe, expect, it } from 'vitest';
import { FLIP_MEMORY_MS, FlipHistories } from './flip-histories.js';

const T0 = Date.parse('2026-12-06T08:00:00Z');
const MIN = 60_000;

describe('FlipHistories', () => {
  it('gives every history as entries, which seed an empty one to the same histories (a snapshot)', () => {
    const h = new FlipHistories();
    h.recordTrigger('svc', 'once', T0);
    h.recordTrigger('svc', 'twice', T0);
    h.recordTrigger('svc', 'twice', T0 + MIN);
    h.recordFlapping('other', 'flapping', T0);
    const entries = h.entries();
    expect(entries).toStrictEqual([
      ['svc', 'once', [T0], null],
      ['svc', 'twice', [T0, T0 + MIN], null],
      ['other', 'flapping', [], T0],
    ]);
    const seeded = new FlipHistories();
    for (const e of JSON.parse(JSON.stringify(entries)) as typeof entries) seeded.seed(e);
    expect(seeded.entries()).toStrictEqual(entries);
    expect(seeded.get('svc', 'twice')).toStrictEqual({ triggers: [T0, T0 + MIN], flappingSince: null });
    expect(seeded.find('svc', 'never')).toBeUndefined();
  });

  it('knows nothing of a fingerprint never triggered', () => {
    expect(new FlipHistories().get('svc', 'fp')).toEqual({ triggers: [], flappingSince: null });
  });

  it.each<[string, Array<['trigger' | 'flapping', number | null]>, { triggers: number[]; flappingSince: number | null }]>([
    ['one trigger', [['trigger', T0]], { triggers: [T0], flappingSince: null }],
    [
      'three triggers, in order',
      [
        ['trigger', T0],
        ['trigger', T0 + MIN],
        ['trigger', T0 + 2 * MIN],
      ],
      { triggers: [T0, T0 + MIN, T0 + 2 * MIN], flappingSince: null },
    ],
    [
      'a trigger older than the memory is forgotten by the next one',
      [
        ['trigger', T0],
        ['trigger', T0 + FLIP_MEMORY_MS + 1],
      ],
      { triggers: [T0 + FLIP_MEMORY_MS + 1], flappingSince: null },
    ],
    [
      'flapping is kept with a single trigger',
      [
        ['trigger', T0],
        ['flapping', T0],
      ],
      { triggers: [T0], flappingSince: T0 },
    ],
    [
      'flapping ended: back to the triggers alone',
      [
        ['trigger', T0],
        ['flapping', T0],
        ['flapping', null],
      ],
      { triggers: [T0], flappingSince: null },
    ],
  ])('%s', (_, steps, expected) => {
    const h = new FlipHistories();
    for (const [kind, at] of steps) {
      if (kind === 'trigger') h.recordTrigger('svc', 'fp', at!);
      else h.recordFlapping('svc', 'fp', at);
    }
    expect(h.get('svc', 'fp')).toEqual(expected);
    expect(h.get('svc', 'other')).toEqual({ triggers: [], flappingSince: null });
    expect(h.get('other', 'fp')).toEqual({ triggers: [], flappingSince: null });
  });

  it('keeps the last 64 triggers', () => {
    const h = new FlipHistories();
    for (let i = 0; i < 70; i++) h.recordTrigger('svc', 'fp', T0 + i * MIN);
    const { triggers } = h.get('svc', 'fp');
    expect(triggers).toHaveLength(64);
    expect(triggers[0]).toBe(T0 + 6 * MIN);
  });

  it('drops entries whose triggers aged out, but not flapping ones, once as many records as entries were made', () => {
    const h = new FlipHistories();
    for (let i = 0; i < 1000; i++) h.recordTrigger('svc', `old-${i}`, T0);
    h.recordFlapping('svc', 'old-0', T0);
    // The 1000th record swept (nothing had aged out); the next sweep comes after 1000 more.
    expect(h.size).toBe(1000);
    const later = T0 + FLIP_MEMORY_MS + MIN;
    for (let i = 0; i < 999; i++) h.recordTrigger('svc', `new-${i}`, later);
    expect(h.size).toBe(1999);
    h.recordTrigger('svc', 'new-999', later);
    // Swept: the 999 aged-out entries are gone, the flapping one and the new ones stay.
    expect(h.size).toBe(1001);
    expect(h.get('svc', 'old-1')).toEqual({ triggers: [], flappingSince: null });
    expect(h.get('svc', 'old-0')).toEqual({ triggers: [T0], flappingSince: T0 });
    expect(h.get('svc', 'new-5')).toEqual({ triggers: [later], flappingSince: null });
  });
});

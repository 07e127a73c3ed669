import { describe, expect, it } from 'vitest';
import { backoffMs, initialRestartState, onExit, type RestartState } from './restarts.js';

describe('backoffMs', () => {
  it.each([
    // streak, random, delay: 0.5 s doubling up to 30 s, then between half and all of it
    [1, 0, 250],
    [1, 0.999, 500],
    [2, 0, 500],
    [2, 0.5, 750],
    [3, 0, 1000],
    [4, 0, 2000],
    [6, 0, 8000],
    [7, 0, 15_000],
    [8, 0, 15_000],
    [8, 0.999, 29_985],
    [50, 0.5, 22_500],
    [0, 0, 250],
  ])('exit %i in a row, random %f: %i ms', (streak, random, delay) => {
    expect(backoffMs(streak, random)).toBe(delay);
  });
});

describe('onExit', () => {
  const s = 1000;
  /** Exits at the given seconds, each after running `readyForMs`; the decisions in order. */
  const exitsAt = (seconds: number[], readyForMs = 0) => {
    let state: RestartState = initialRestartState;
    return seconds.map((t) => {
      const decision = onExit(state, { now: t * s, readyForMs }, 0.5);
      state = decision.state;
      return decision;
    });
  };

  it('backs off further with every exit in a row', () => {
    expect(exitsAt([0, 1, 2, 4, 8]).map((d) => d.delayMs)).toEqual([375, 750, 1500, 3000, 6000]);
  });

  it.each([
    ['4 exits within a minute', [0, 10, 20, 30], [false, false, false, false]],
    ['the 5th exit within a minute', [0, 10, 20, 30, 40], [false, false, false, false, true]],
    ['5 exits spread over more than a minute', [0, 20, 40, 60, 80], [false, false, false, false, false]],
    ['and every exit after it', [0, 1, 2, 3, 4, 5, 6], [false, false, false, false, true, true, true]],
  ])('keeps dying: %s', (_, seconds, keepsDying) => {
    expect(exitsAt(seconds).map((d) => d.keepsDying)).toEqual(keepsDying);
  });

  it('says so once per streak', () => {
    expect(exitsAt([0, 1, 2, 3, 4, 5, 6]).map((d) => d.report)).toEqual([false, false, false, false, true, false, false]);
  });

  it('starts over after a healthy run', () => {
    const [first, second] = exitsAt([0, 100], 0);
    expect(second!.state.streak).toBe(2);
    const healthy = onExit(second!.state, { now: 200 * s, readyForMs: 60 * s }, 0.5);
    expect([first!.delayMs, healthy.delayMs, healthy.state.streak]).toEqual([375, 375, 1]);
  });

  it('says so again when it keeps dying after a healthy run', () => {
    const dying = exitsAt([0, 1, 2, 3, 4]).at(-1)!;
    expect(dying.report).toBe(true);
    let state = onExit(dying.state, { now: 100 * s, readyForMs: 90 * s }, 0).state;
    expect(state.reported).toBe(false);
    const reports = [101, 102, 103, 104].map((t) => {
      const d = onExit(state, { now: t * s, readyForMs: 0 }, 0);
      state = d.state;
      return d.report;
    });
    expect(reports).toEqual([false, false, false, true]);
  });
});

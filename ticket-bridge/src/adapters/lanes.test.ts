import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Holding, ProviderLanes } from './lanes.js';

/** A call that ends when told to. */
function call(): { fn: () => Promise<string>; end: () => void; started: () => boolean } {
  let end = () => {};
  let started = false;
  const fn = () => {
    started = true;
    return new Promise<string>((resolve) => (end = () => resolve('ran')));
  };
  return { fn, end: () => end(), started: () => started };
}

describe('ProviderLanes pause', () => {
  it('pauses one provider until the time given; a later pause extends it, an earlier one does not shorten it', () => {
    const lanes = new ProviderLanes(1);
    expect(lanes.pause('jira', 2000, 1000)).toBe(true);
    expect(lanes.pausedUntil('jira', 1500)).toBe(2000);
    expect(lanes.pausedUntil('snow', 1500)).toBeNull();
    expect(lanes.pause('jira', 1800, 1500)).toBe(false);
    expect(lanes.pausedUntil('jira', 1500)).toBe(2000);
    expect(lanes.pause('jira', 3000, 1600)).toBe(false);
    expect(lanes.pausedUntil('jira', 2500)).toBe(3000);
    expect(lanes.pausedUntil('jira', 3000)).toBeNull();
    expect(lanes.pause('jira', 4000, 3000)).toBe(true);
  });
});

describe('ProviderLanes holding work', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds work beyond the call slots in arrival order, up to the Holding per provider and in all, and refuses beyond', async () => {
    const lanes = new ProviderLanes(1);
    const holding = new Holding(2, 3);
    const calls = [call(), call(), call(), call()];
    const runs = calls.slice(0, 3).map((c) => lanes.run('jira', holding, c.fn, () => 'handed back'));
    expect(runs.every((r) => r !== null)).toBe(true);
    expect(calls.map((c) => c.started())).toEqual([true, false, false, false]);
    expect(holding.held('jira')).toBe(2);
    expect(lanes.run('jira', holding, calls[3]!.fn, () => 'handed back')).toBeNull();
    // Another provider: a free call slot runs at once; its waiting work fills the total (3) and then it refuses too.
    const other = [call(), call(), call()];
    expect(lanes.run('snow', holding, other[0]!.fn, () => 'handed back')).not.toBeNull();
    expect(other[0]!.started()).toBe(true);
    expect(lanes.run('snow', holding, other[1]!.fn, () => 'handed back')).not.toBeNull();
    expect(holding.held()).toBe(3);
    expect(lanes.run('snow', holding, other[2]!.fn, () => 'handed back')).toBeNull();
    calls[0]!.end();
    await expect(runs[0]).resolves.toBe('ran');
    expect(calls.map((c) => c.started())).toEqual([true, true, false, false]);
    expect(holding.held('jira')).toBe(1);
    calls[1]!.end();
    await expect(runs[1]).resolves.toBe('ran');
    expect(calls[2]!.started()).toBe(true);
    expect(holding.held()).toBe(1);
  });

  it('starts no held work while the lane is paused, all of it when the pause ends; other providers go on meanwhile', async () => {
    const lanes = new ProviderLanes(2);
    const holding = new Holding(10, 10);
    lanes.pause('jira', Date.now() + 5000, Date.now());
    const held = [call(), call(), call()];
    const runs = held.map((c) => lanes.run('jira', holding, c.fn, () => 'handed back'));
    const snow = call();
    const snowRun = lanes.run('snow', holding, snow.fn, () => 'handed back');
    expect(snow.started()).toBe(true);
    snow.end();
    await expect(snowRun).resolves.toBe('ran');
    await vi.advanceTimersByTimeAsync(4999);
    expect(held.map((c) => c.started())).toEqual([false, false, false]);
    await vi.advanceTimersByTimeAsync(1);
    expect(held.map((c) => c.started())).toEqual([true, true, false]);
    // A 429 meanwhile pauses it again: the third waits for that pause too.
    lanes.pause('jira', Date.now() + 3000, Date.now());
    held[0]!.end();
    held[1]!.end();
    await expect(runs[0]).resolves.toBe('ran');
    await expect(runs[1]).resolves.toBe('ran');
    expect(held[2]!.started()).toBe(false);
    await vi.advanceTimersByTimeAsync(3000);
    expect(held[2]!.started()).toBe(true);
    held[2]!.end();
    await expect(runs[2]).resolves.toBe('ran');
    expect(holding.held()).toBe(0);
  });

  it('hands back all held work when closed, and all work that comes after', async () => {
    const lanes = new ProviderLanes(1);
    const holding = new Holding(10, 10);
    const running = call();
    const first = lanes.run('jira', holding, running.fn, () => 'handed back');
    const waiting = call();
    const second = lanes.run('jira', holding, waiting.fn, () => 'handed back');
    lanes.close();
    await expect(second).resolves.toBe('handed back');
    expect(waiting.started()).toBe(false);
    expect(holding.held()).toBe(0);
    const after = call();
    await expect(lanes.run('snow', holding, after.fn, () => 'handed back')).resolves.toBe('handed back');
    expect(after.started()).toBe(false);
    running.end();
    await expect(first).resolves.toBe('ran');
  });
});

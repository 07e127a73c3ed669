import { describe, expect, it } from 'vitest';
import { ProviderLanes } from './lanes.js';

describe('ProviderLanes pause', () => {
  it('pauses one provider until the time given; a later pause extends it, an earlier one does not shorten it', () => {
    const lanes = new ProviderLanes(1, 1);
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

/**
 * Equal immutable values kept once. Thousands of pending escalations mostly share their route
 * decision and their step's recipients (same service, same policy, same on-call), so a state
 * keeps the one copy made first instead of its own. Values are only ever replaced, never
 * changed, so sharing them changes nothing but memory; the table forgets everything when it
 * grows past its bound (a value then merely stops being shared).
 */
export class SharedValues<T> {
  private readonly values = new Map<string, T>();

  constructor(private readonly bound = 10_000) {}

  /** The first value equal (as JSON) to `value`, or `value` itself. */
  of(value: T): T {
    const key = JSON.stringify(value);
    const known = this.values.get(key);
    if (known !== undefined) return known;
    if (this.values.size >= this.bound) this.values.clear();
    this.values.set(key, value);
    return value;
  }
}

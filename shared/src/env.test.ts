import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envBytes, envDuration, parseEnv } from './env.js';

describe('duration and size settings', () => {
  const schema = z.object({ AGE: envDuration('30d'), SIZE: envBytes('16GiB') });
  it.each([
    [{}, 30 * 86_400_000, 16 * 1024 ** 3],
    [{ AGE: '0', SIZE: '0' }, 0, 0],
    [{ AGE: '12h', SIZE: '500MB' }, 12 * 3_600_000, 500_000_000],
    [{ AGE: '90m', SIZE: '1.5KiB' }, 90 * 60_000, 1536],
    [{ AGE: '45s', SIZE: '2000000' }, 45_000, 2_000_000],
    [{ AGE: '250ms', SIZE: '1 TB' }, 250, 1e12],
  ])('%j', (env, age, size) => {
    expect(parseEnv(schema, env)).toEqual({ AGE: age, SIZE: size });
  });

  it('reports every bad one together', () => {
    expect(() => parseEnv(schema, { AGE: 'a week', SIZE: '16 gigs' })).toThrow(
      'invalid configuration: AGE: "a week" is not a duration: use 30d, 12h, 90m, 45s or 0; SIZE: "16 gigs" is not a size: use 16GiB, 500MB or a number of bytes',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, Engines, TemplateCache, type EngineKind } from './engine.js';
import { TemplateError } from './errors.js';
import { HOSTILE, thrown } from './testing.js';

const engines = new Engines();
const render = (kind: EngineKind, source: string, scope: object = {}): string => engines.render(engines.parse(kind, source), scope);

describe('escaping per engine', () => {
  it.each(HOSTILE)('json: %s inside a string stays one valid string', (_, value) => {
    const out = render('json', '{"v": "{{ v }}", "w": "pre {{ v | upcase }} post"}', { v: value });
    expect(JSON.parse(out)).toStrictEqual({ v: value, w: `pre ${value.toUpperCase()} post` });
    expect(out).not.toContain('</script>');
  });

  it.each(HOSTILE)('json: %s through | json is a valid value', (_, value) => {
    expect(JSON.parse(render('json', '{"v": {{ v | json }}, "m": {{ m | json }}}', { v: value, m: { k: value } }))).toStrictEqual({
      v: value,
      m: { k: value },
    });
  });

  it.each(HOSTILE)('slack: %s is entity-escaped inside valid JSON', (_, value) => {
    const out = JSON.parse(render('slack', '{"t": "{{ v }}", "j": {{ v | json }}}', { v: value })) as { t: string; j: string };
    const entities = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect(out).toStrictEqual({ t: entities, j: entities });
  });

  it.each(HOSTILE)('html: %s is escaped', (_, value) => {
    const out = render('html', '<p title="{{ v }}">{{ v }}</p>', { v: value });
    expect(out).not.toMatch(/<script|<!channel|"\s*onerror/);
    expect(out.replace(/<\/?p[^>]*>/g, '')).not.toMatch(/[<>"']/);
  });

  it('html: | raw opts out of escaping', () => {
    expect(render('html', '{{ v | raw }}', { v: '<b>' })).toBe('<b>');
  });

  it.each(HOSTILE)('text: %s is printed as is', (_, value) => {
    expect(render('text', '{{ v }}', { v: value })).toBe(value);
  });

  it.each<[EngineKind, string]>([
    ['json', '{"a": null, "b": null, "c": "", "d": 1}'],
    ['slack', '{"a": null, "b": null, "c": "", "d": 1}'],
    ['text', '{"a": null, "b": null, "c": "", "d": 1}'],
  ])('%s: undefined through | json prints null, inside a string prints nothing', (kind, expected) => {
    expect(
      render(kind, '{"a": {{ missing | json }}, "b": {{ x.y.z | json }}, "c": "{{ missing }}", "d": {{ one | json }}}', { one: 1 }),
    ).toBe(expected);
  });

  it('json: objects printed inside a string are escaped JSON text', () => {
    expect(JSON.parse(render('json', '{"s": "{{ m }}"}', { m: { a: '"' } }))).toStrictEqual({ s: '{"a":"\\""}' });
  });

  it('text: objects print as JSON, not [object Object]', () => {
    expect(render('text', '{{ m }}', { m: { a: 1 } })).toBe('{"a":1}');
  });

  it('dates render in UTC', () => {
    expect(render('text', '{{ now | date: "%Y-%m-%d %H:%M" }}', { now: '2026-02-03T23:30:00Z' })).toBe('2026-02-03 23:30');
  });
});

describe('syntax errors carry line and column', () => {
  it.each<[string, string, number, number]>([
    ['unknown filter', 'Hello\n  {{ alert.summary | shout }}', 2, 3],
    ['unknown tag', 'a\nb\n  {% frobnicate %}', 3, 3],
    ['unclosed output', 'ok\n{{ alert.summary', 2, 1],
    ['unclosed for', 'line 1\nline 2 {% for x in list %}{{ x }}', 2, 8],
    ['unclosed if', '{% if a %}', 1, 1],
    ['stray endif', 'x {% endif %}', 1, 3],
    ['include is not available', '\n{% include "/etc/passwd" %}', 2, 1],
    ['render is not available', '{% render "x" %}', 1, 1],
    ['layout is not available', '{% layout "x" %}', 1, 1],
  ])('%s', (_, source, line, column) => {
    const err = thrown(() => engines.parse('text', source));
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).toMatchObject({ code: 'INVALID_SYNTAX', line, column });
    expect((err as TemplateError).message).not.toMatch(/line:\d/);
  });

  it('a render error points at the output that failed', () => {
    expect(thrown(() => render('text', 'a\n  {{ "x" | base64_decode }}'))).toMatchObject({
      code: 'RENDER_FAILED',
      line: 2,
      column: 3,
      message: 'invalid base64 provided to base64_decode',
    });
  });
});

describe('limits', () => {
  const small = new Engines({ ...DEFAULT_LIMITS, maxOutputChars: 10_000, renderTimeMs: 200 });
  const timed = (fn: () => unknown): { err: unknown; ms: number } => {
    const t0 = performance.now();
    const err = thrown(fn);
    return { err, ms: performance.now() - t0 };
  };

  it.each<[string, string, object, 'memory' | 'time' | 'output']>([
    ['a huge range loop', '{% for i in (1..100000000) %}x{% endfor %}', {}, 'memory'],
    // Over a list from the scope, not ranges: ranges count against the memory limit (10 inner ranges of
    // 100,000 reach it), so on a fast machine that one limit or the other came first.
    [
      'nested loops',
      '{% for a in list %}{% for b in list %}{% endfor %}{% endfor %}',
      { list: Array.from({ length: 100_000 }, (_, i) => i) },
      'time',
    ],
    [
      'string doubling',
      '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
      {},
      'memory',
    ],
    [
      'array doubling',
      '{% assign a = "a,b,c,d" | split: "," %}{% for i in (1..40) %}{% assign a = a | concat: a %}{% endfor %}',
      {},
      'memory',
    ],
    [
      'a loop over a small list that never ends',
      '{% for i in (1..999) %}{% for j in (1..999) %}{% for k in list %}{% endfor %}{% endfor %}{% endfor %}',
      { list: [1, 2, 3] },
      'time',
    ],
    ['huge output', '{% for i in (1..900) %}{{ big }}{% endfor %}', { big: 'y'.repeat(1000) }, 'output'],
    ['huge output from one value', '{{ big }}', { big: 'y'.repeat(10_001) }, 'output'],
  ])('%s is stopped quickly with a clear error', (_, source, scope, limit) => {
    const { err, ms } = timed(() => small.render(small.parse('text', source), scope));
    expect(err).toBeInstanceOf(TemplateError);
    expect(err).toMatchObject({ code: 'LIMIT_EXCEEDED', limit });
    expect((err as TemplateError).message).toMatch(/limit exceeded/);
    expect(ms).toBeLessThan(5000); // a runaway template would run for minutes; the margin is for 2 busy cores
  });

  it('a render held up past the limit once (a major GC, a busy core) is tried again and succeeds', () => {
    let reads = 0;
    const scope = {
      list: [1, 2, 3],
      get who() {
        // The first read stalls like a process that lost its core for 250 ms; later reads do not.
        if (reads++ === 0) for (const end = performance.now() + 250; performance.now() < end;);
        return 'zoe';
      },
    };
    expect(small.render(small.parse('text', '{{ who }}{% for i in list %}.{% endfor %}'), scope)).toBe('zoe...');
    expect(reads).toBe(2);
  });

  it('a source over the size limit is refused before parsing', () => {
    expect(thrown(() => engines.parse('text', 'x'.repeat(DEFAULT_LIMITS.maxSourceChars + 1)))).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      limit: 'source',
    });
  });

  it('limits are per render: a render after a stopped one works', () => {
    const parsed = small.parse('text', '{% for i in (1..n) %}x{% endfor %}');
    expect(thrown(() => small.render(parsed, { n: 100_000_000 }))).toMatchObject({ limit: 'memory' });
    for (let i = 0; i < 5; i++) expect(small.render(parsed, { n: 3 })).toBe('xxx');
  });
});

describe('variable references', () => {
  it('lists context variables with positions, not loop locals or assigns', () => {
    const parsed = engines.parse(
      'text',
      '{{ alert.summary }}\n{% for l in alert.links %}{{ l.href }}{{ forloop.index }}{% endfor %}{% assign x = 1 %}{{ x }} {{ labels["a.b"] }} {{ labels[key] }}',
    );
    expect(parsed.variables.map((v) => [v.name, v.path, v.line, v.column])).toStrictEqual([
      ['alert.summary', ['alert', 'summary'], 1, 4],
      ['alert.links', ['alert', 'links'], 2, 13],
      ["labels['a.b']", ['labels', 'a.b'], 2, 99],
      ['labels[key]', ['labels'], 2, 119],
      ['key', ['key'], 2, 126],
    ]);
  });
});

describe('TemplateCache', () => {
  const parse = (source: string) => () => engines.parse('text', source);

  it('returns the same parsed template on a hit', () => {
    const cache = new TemplateCache(10);
    const a = cache.getOrParse('t1', 1, 'sms', 'hi {{ x }}', parse('hi {{ x }}'));
    const b = cache.getOrParse('t1', 1, 'sms', 'hi {{ x }}', () => {
      throw new Error('should not parse again');
    });
    expect(b).toBe(a);
    expect({ hits: cache.hits, misses: cache.misses }).toStrictEqual({ hits: 1, misses: 1 });
  });

  it('keys by template, version and part', () => {
    const cache = new TemplateCache(10);
    const a = cache.getOrParse('t1', 1, 'sms', 'x', parse('x'));
    expect(cache.getOrParse('t1', 2, 'sms', 'x', parse('x'))).not.toBe(a);
    expect(cache.getOrParse('t2', 1, 'sms', 'x', parse('x'))).not.toBe(a);
    expect(cache.getOrParse('t1', 1, 'voice', 'x', parse('x'))).not.toBe(a);
    expect(cache.size).toBe(4);
  });

  it('re-parses when the source under a key changes (drafts)', () => {
    const cache = new TemplateCache(10);
    cache.getOrParse('draft', 0, 'sms', 'a', parse('a'));
    expect(cache.getOrParse('draft', 0, 'sms', 'b', parse('b')).source).toBe('b');
    expect(cache.size).toBe(1);
  });

  it('evicts the least recently used entry', () => {
    const cache = new TemplateCache(2);
    const a = cache.getOrParse('a', 1, 'sms', 'a', parse('a'));
    cache.getOrParse('b', 1, 'sms', 'b', parse('b'));
    cache.getOrParse('a', 1, 'sms', 'a', parse('a'));
    cache.getOrParse('c', 1, 'sms', 'c', parse('c'));
    expect(cache.size).toBe(2);
    expect(cache.getOrParse('a', 1, 'sms', 'a', parse('a'))).toBe(a);
    let parsedB = false;
    cache.getOrParse('b', 1, 'sms', 'b', () => {
      parsedB = true;
      return engines.parse('text', 'b');
    });
    expect(parsedB).toBe(true);
  });

  it('caches parse errors', () => {
    const cache = new TemplateCache(10);
    let parses = 0;
    const bad = () => {
      parses += 1;
      return engines.parse('text', '{% if %}');
    };
    const e1 = thrown(() => cache.getOrParse('t', 1, 'sms', '{% if %}', bad));
    const e2 = thrown(() => cache.getOrParse('t', 1, 'sms', '{% if %}', bad));
    expect(e1).toBeInstanceOf(TemplateError);
    expect(e2).toBe(e1);
    expect(parses).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { parsePostgresSettings } from './postgres.js';

describe('parsePostgresSettings', () => {
  it.each([
    ['', {}],
    ['shared_buffers=2GB', { shared_buffers: '2GB' }],
    ['  shared_buffers=2GB\tmax_wal_size=8GB ', { shared_buffers: '2GB', max_wal_size: '8GB' }],
    ['Work_Mem=64MB', { work_mem: '64MB' }],
    ['auto_explain.log_min_duration=250ms', { 'auto_explain.log_min_duration': '250ms' }],
    ['a=1 a=2', { a: '2' }],
  ])('%j', (text, settings) => {
    expect(parsePostgresSettings(text)).toEqual(settings);
  });

  it.each([
    ['shared_buffers', '"shared_buffers" is not name=value'],
    ['=2GB', '"=2GB" is not name=value'],
    ['shared_buffers=', '"shared_buffers=" is not name=value'],
    ['1abc=2', '"1abc=2" is not name=value'],
    ['x;drop=1', '"x;drop=1" is not name=value'],
  ])('rejects %j', (text, message) => {
    expect(() => parsePostgresSettings(text)).toThrow(message);
  });
});

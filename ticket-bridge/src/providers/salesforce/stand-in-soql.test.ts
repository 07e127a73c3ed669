import { describe, expect, it } from 'vitest';
import { parseSoql } from './stand-in-soql.js';

describe("the stand-in's SOQL subset", () => {
  it.each([
    ['SELECT Id FROM Case', { fields: ['Id'], from: 'Case', where: null, orderBy: null, limit: null }],
    [
      "SELECT Id, CaseNumber FROM Case WHERE CaseNumber = 'O\\'Brien'",
      { fields: ['Id', 'CaseNumber'], where: { field: 'CaseNumber', op: '=', value: "O'Brien" } },
    ],
    [
      'SELECT Id, LastModifiedBy.Username FROM Case WHERE SystemModstamp > 2026-12-06T03:00:00Z ORDER BY SystemModstamp ASC LIMIT 200',
      {
        fields: ['Id', 'LastModifiedBy.Username'],
        where: { field: 'SystemModstamp', op: '>', value: new Date('2026-12-06T03:00:00Z') },
        orderBy: { field: 'SystemModstamp', desc: false },
        limit: 200,
      },
    ],
  ])('%s', (text, parsed) => {
    expect(parseSoql(text)).toMatchObject(parsed);
  });
  it.each([
    ['DELETE FROM Case', 'MALFORMED_QUERY'],
    ['SELECT Id FROM Case WHERE SystemModstamp > 2026-12-06', 'MALFORMED_QUERY'],
  ])('%s is refused: %s', (text, code) => {
    expect(() => parseSoql(text)).toThrow(expect.objectContaining({ errorCode: code }) as Error);
  });
});

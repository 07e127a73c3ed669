/** The few SOQL shapes the stand-in answers: SELECT fields FROM Case [WHERE f = 'x' | f > datetime] [ORDER BY f ASC|DESC] [LIMIT n]. */
export interface SoqlQuery {
  fields: string[];
  from: string;
  where: { field: string; op: '=' | '>'; value: string | Date } | null;
  orderBy: { field: string; desc: boolean } | null;
  limit: number | null;
}

export class SoqlError extends Error {
  constructor(
    readonly errorCode: 'MALFORMED_QUERY' | 'INVALID_FIELD',
    message: string,
  ) {
    super(message);
  }
}

const QUERY =
  /^SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+([\w.]+)\s*(=|>)\s*('(?:[^'\\]|\\.)*'|\S+))?(?:\s+ORDER\s+BY\s+([\w.]+)(?:\s+(ASC|DESC))?)?(?:\s+LIMIT\s+(\d+))?\s*$/i;

export function parseSoql(text: string): SoqlQuery {
  const m = QUERY.exec(text.trim());
  if (!m) throw new SoqlError('MALFORMED_QUERY', `unexpected token in query: ${text.slice(0, 80)}`);
  const [, fieldList, from, whereField, op, literal, orderField, direction, limit] = m;
  let where: SoqlQuery['where'] = null;
  if (whereField !== undefined && literal !== undefined) {
    let value: string | Date;
    if (literal.startsWith("'")) {
      value = literal.slice(1, -1).replace(/\\(.)/g, '$1');
    } else {
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?(?:Z|[+-]\d\d:\d\d)$/.test(literal)) {
        throw new SoqlError('MALFORMED_QUERY', `invalid date/time literal: ${literal}`);
      }
      value = new Date(literal);
    }
    where = { field: whereField, op: op as '=' | '>', value };
  }
  return {
    fields: fieldList!.split(',').map((f) => f.trim()),
    from: from!,
    where,
    orderBy: orderField === undefined ? null : { field: orderField, desc: direction?.toUpperCase() === 'DESC' },
    limit: limit === undefined ? null : Number(limit),
  };
}

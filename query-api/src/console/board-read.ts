import type pg from 'pg';
import { CONSUMERS } from '@oncall/contracts';
import type { ListPool } from '../read-model/alerts.js';
import { BOARD_COLUMNS, ESCALATION_JOIN, boardRowOf } from './board-rows.js';
import type { SeqRow } from './board-window.js';
import type { BoardCursor } from './cursor.js';

/** Every value as PostgreSQL's text: boardRowOf converts what it needs. */
const AS_TEXT = { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig;

// Both checkpoints in the same statement as the rows: one snapshot, so the cursor is exactly what the rows reflect.
const CHECKPOINTS = `cp AS (
  SELECT coalesce(max(last_seq) FILTER (WHERE projection = '${CONSUMERS.projectorAlerts}'), 0) AS a,
    coalesce(max(last_seq) FILTER (WHERE projection = '${CONSUMERS.projectorEscalations}'), 0) AS e
  FROM projection_checkpoints WHERE projection IN ('${CONSUMERS.projectorAlerts}', '${CONSUMERS.projectorEscalations}'))`;

export type BoardRead = Readonly<{ cursor: BoardCursor; rows: readonly SeqRow[] }>;

function readOf(found: Array<Array<string | null>>): BoardRead {
  const first = found[0];
  const cursor = { alerts: Number(first?.[0] ?? 0), escalations: Number(first?.[1] ?? 0) };
  const rows: SeqRow[] = [];
  for (const r of found) if (r.length > 2 && r[2] !== null) rows.push(boardRowOf(r.slice(2)));
  return { cursor, rows };
}

/** Every open alert, newest first, and the cursor the stream continues from: one query. */
export async function readBoard(db: ListPool): Promise<BoardRead> {
  const { rows } = await db.query<Array<string | null>>({
    text: `WITH ${CHECKPOINTS}
      SELECT cp.a, cp.e, b.* FROM cp LEFT JOIN LATERAL (
        SELECT ${BOARD_COLUMNS} FROM alerts a ${ESCALATION_JOIN} WHERE a.status <> 'resolved' ORDER BY a.created_at DESC, a.id DESC
      ) b ON true`,
    rowMode: 'array',
    types: AS_TEXT,
  });
  return readOf(rows);
}

/**
 * The alerts whose row changed after `after` in either projection (resolved ones included: the
 * board removes them), with the cursor they are as of: one query for every connection.
 */
export async function readChanges(db: ListPool, after: BoardCursor): Promise<BoardRead> {
  const { rows } = await db.query<Array<string | null>>({
    text: `WITH ${CHECKPOINTS},
      changed AS (SELECT id FROM alerts WHERE last_event_seq > $1 UNION SELECT alert_id FROM alert_escalations WHERE last_event_seq > $2)
      SELECT cp.a, cp.e, b.* FROM cp LEFT JOIN LATERAL (
        SELECT ${BOARD_COLUMNS} FROM changed JOIN alerts a ON a.id = changed.id ${ESCALATION_JOIN}
      ) b ON true`,
    values: [after.alerts, after.escalations],
    rowMode: 'array',
    types: AS_TEXT,
  });
  return readOf(rows);
}

/** The cursor alone (where the stream starts). */
export async function readCursor(db: ListPool): Promise<BoardCursor> {
  const { rows } = await db.query<Array<string | null>>({
    text: `WITH ${CHECKPOINTS} SELECT cp.a, cp.e FROM cp`,
    rowMode: 'array',
    types: AS_TEXT,
  });
  return readOf(rows).cursor;
}

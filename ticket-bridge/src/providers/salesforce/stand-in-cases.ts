import type { CaseChange } from './stand-in-pubsub.js';
import type { SoqlQuery } from './stand-in-soql.js';

/** A Case as the stand-in keeps it. */
export interface StandInCase {
  Id: string;
  CaseNumber: string;
  Status: string;
  IsClosed: boolean;
  SystemModstamp: Date;
  LastModifiedById: string;
  /** Every other field set through the API (Subject, Priority, Service__c, AlertFingerprint__c, …). */
  fields: Record<string, string | null>;
}

export interface StandInComment {
  Id: string;
  ParentId: string;
  CommentBody: string;
  CreatedById: string;
}

export interface FieldDef {
  name: string;
  type: 'id' | 'string' | 'textarea' | 'picklist' | 'boolean' | 'datetime' | 'reference';
  createable: boolean;
  externalId: boolean;
  unique: boolean;
  picklist?: readonly string[];
}

const STANDARD_FIELDS: readonly FieldDef[] = [
  { name: 'Id', type: 'id', createable: false, externalId: false, unique: true },
  { name: 'CaseNumber', type: 'string', createable: false, externalId: false, unique: true },
  { name: 'Subject', type: 'string', createable: true, externalId: false, unique: false },
  { name: 'Description', type: 'textarea', createable: true, externalId: false, unique: false },
  { name: 'Priority', type: 'picklist', createable: true, externalId: false, unique: false, picklist: ['High', 'Medium', 'Low'] },
  {
    name: 'Origin',
    type: 'picklist',
    createable: true,
    externalId: false,
    unique: false,
    picklist: ['Phone', 'Email', 'Web', 'Monitoring'],
  },
  { name: 'Type', type: 'string', createable: true, externalId: false, unique: false },
  { name: 'IsClosed', type: 'boolean', createable: false, externalId: false, unique: false },
  { name: 'SystemModstamp', type: 'datetime', createable: false, externalId: false, unique: false },
  { name: 'LastModifiedById', type: 'reference', createable: false, externalId: false, unique: false },
  { name: 'Service__c', type: 'string', createable: true, externalId: false, unique: false },
  { name: 'AlertFingerprint__c', type: 'string', createable: true, externalId: true, unique: true },
];
export const EXTERNAL_ID = 'AlertFingerprint__c';
const COMMENT_FIELDS = new Set(['ParentId', 'CommentBody', 'IsPublished']);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }
}

const sfTime = (d: Date) => d.toISOString().replace('Z', '+0000');
export const idOf = (prefix: string, n: number) => `${prefix}Hs0${String(n).padStart(9, '0')}AAA`;

/** The stand-in's Cases and CaseComments with Salesforce's field rules; every Case change is published as a CDC event. */
export function caseStore(opts: {
  statuses: readonly string[];
  closedStatuses: readonly string[];
  now: () => Date;
  publish: (change: CaseChange) => void;
  usernameOf: (userId: string) => string | undefined;
}) {
  const { now, statuses } = opts;
  const closedStatuses = new Set(opts.closedStatuses);
  const statusField: FieldDef = {
    name: 'Status',
    type: 'picklist',
    createable: true,
    externalId: false,
    unique: false,
    picklist: statuses,
  };
  const caseFields = new Map<string, FieldDef>([...STANDARD_FIELDS, statusField].map((f) => [f.name, f]));
  const record = (c: StandInCase) => ({
    Id: c.Id,
    CaseNumber: c.CaseNumber,
    Status: c.Status,
    IsClosed: c.IsClosed,
    SystemModstamp: sfTime(c.SystemModstamp),
    LastModifiedById: c.LastModifiedById,
    ...c.fields,
  });

  const pick = (c: StandInCase, fields: string[]) => {
    const all = record(c) as Record<string, unknown>;
    const out: Record<string, unknown> = { attributes: { type: 'Case', url: `/services/data/v62.0/sobjects/Case/${c.Id}` } };
    for (const f of fields) {
      if (f === 'LastModifiedBy.Username')
        out.LastModifiedBy = { attributes: { type: 'User' }, Username: opts.usernameOf(c.LastModifiedById) ?? null };
      else if (!caseFields.has(f))
        throw new ApiError(
          400,
          'INVALID_FIELD',
          `No such column '${f}' on entity 'Case'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
        );
      else out[f] = all[f] ?? null;
    }
    return out;
  };

  /** Checks a Case body: known, writable fields, restricted picklists, string values. */
  const caseValues = (body: unknown, forbid: string | null) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
    const values: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      const def = caseFields.get(name);
      if (!def) throw new ApiError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type Case`);
      if (!def.createable || name === forbid) {
        throw new ApiError(
          400,
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          [name],
        );
      }
      if (value !== null && typeof value !== 'string')
        throw new ApiError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of string from ${typeof value} value for ${name}`);
      if (def.picklist && value !== null && !def.picklist.includes(value)) {
        throw new ApiError(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${name}: bad value for restricted picklist field: ${value}`, [
          name,
        ]);
      }
      values[name] = value;
    }
    return values;
  };

  const createCase = (values: Record<string, string | null>, byId: string): StandInCase => {
    const status = values.Status ?? 'New';
    const n = cases.length + 1;
    const { Status: _status, ...fields } = values;
    const c: StandInCase = {
      Id: idOf('500', n),
      CaseNumber: String(1000 + n).padStart(8, '0'),
      Status: status,
      IsClosed: closedStatuses.has(status),
      SystemModstamp: now(),
      LastModifiedById: byId,
      fields,
    };
    cases.push(c);
    opts.publish({
      changeType: 'CREATE',
      recordId: c.Id,
      commitUserId: byId,
      values: { ...fields, CaseNumber: c.CaseNumber, Status: c.Status, IsClosed: c.IsClosed, LastModifiedById: byId },
    });
    return c;
  };

  const updateCase = (c: StandInCase, values: Record<string, string | null>, byId: string) => {
    const changed: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(values)) {
      if (name === 'Status') {
        if (value === null)
          throw new ApiError(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'Status: bad value for restricted picklist field: null', [
            'Status',
          ]);
        if (c.Status !== value) {
          c.Status = value;
          changed.Status = value;
          if (c.IsClosed !== closedStatuses.has(value)) changed.IsClosed = c.IsClosed = closedStatuses.has(value);
        }
      } else if (c.fields[name] !== value) {
        c.fields[name] = value;
        changed[name] = value;
      }
    }
    c.SystemModstamp = now();
    c.LastModifiedById = byId;
    if (Object.keys(changed).length > 0) {
      opts.publish({
        changeType: 'UPDATE',
        recordId: c.Id,
        commitUserId: byId,
        values: { ...changed, LastModifiedDate: c.SystemModstamp.getTime(), LastModifiedById: byId },
      });
    }
  };

  const caseById = (id: string) => {
    const c = cases.find((x) => x.Id === id);
    if (!c) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return c;
  };

  const query = (q: SoqlQuery) => {
    if (q.from !== 'Case') throw new ApiError(400, 'INVALID_TYPE', `sObject type '${q.from}' is not supported.`);
    for (const f of [...q.fields, q.where?.field, q.orderBy?.field]) {
      if (f !== undefined && f !== 'LastModifiedBy.Username' && !caseFields.has(f)) {
        throw new ApiError(400, 'INVALID_FIELD', `No such column '${f}' on entity 'Case'.`);
      }
    }
    const w = q.where;
    if (w !== null && (w.field === 'SystemModstamp') !== w.value instanceof Date) {
      throw new ApiError(
        400,
        'INVALID_FIELD',
        `value of filter criterion for field '${w.field}' is of the wrong type (datetimes are not quoted, strings are)`,
      );
    }
    if (w !== null && w.op === '>' && w.field !== 'SystemModstamp')
      throw new ApiError(400, 'MALFORMED_QUERY', 'the stand-in compares only SystemModstamp with >');
    const valueOf = (c: StandInCase, f: string) => (record(c) as Record<string, unknown>)[f];
    let rows = cases.filter((c) => {
      if (w === null) return true;
      if (w.op === '=') return valueOf(c, w.field) === w.value;
      return w.value instanceof Date && w.field === 'SystemModstamp' && c.SystemModstamp.getTime() > w.value.getTime();
    });
    if (q.orderBy) {
      const { field, desc } = q.orderBy;
      rows = [...rows].sort((a, b) => (String(valueOf(a, field)) < String(valueOf(b, field)) ? -1 : 1) * (desc ? -1 : 1));
    }
    if (q.limit !== null) rows = rows.slice(0, q.limit);
    return { totalSize: rows.length, done: true, records: rows.map((c) => pick(c, q.fields)) };
  };
  const addComment = (body: unknown, byId: string): StandInComment => {
    const values = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const unknown = Object.keys(values).find((k) => !COMMENT_FIELDS.has(k));
    if (unknown !== undefined) throw new ApiError(400, 'INVALID_FIELD', `No such column '${unknown}' on sobject of type CaseComment`);
    if (typeof values.ParentId !== 'string' || !cases.some((c) => c.Id === values.ParentId)) {
      throw new ApiError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Parent ID: id value of incorrect type', ['ParentId']);
    }
    if (typeof values.CommentBody !== 'string' || values.CommentBody === '' || values.CommentBody.length > 4000) {
      throw new ApiError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [CommentBody] or it is longer than 4000 characters', [
        'CommentBody',
      ]);
    }
    const comment = {
      Id: idOf('00a', comments.length + 1),
      ParentId: values.ParentId,
      CommentBody: values.CommentBody,
      CreatedById: byId,
    };
    comments.push(comment);
    return comment;
  };
  const cases: StandInCase[] = [];
  const comments: StandInComment[] = [];
  return { caseFields, cases, comments, pick, caseValues, createCase, updateCase, caseById, query, addComment };
}
export type CaseStore = ReturnType<typeof caseStore>;

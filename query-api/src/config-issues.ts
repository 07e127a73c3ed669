import type { ConfigFile } from '@oncall/shared/config-file';
import { FailedPrecondition, InvalidArgument, type ApiError, type FieldViolation } from './errors.js';

/** A problem the configuration check found, at a path of the file (`escalationPolicies[0].steps[1]` or its parts). */
export type ConfigIssue = Readonly<{ path: string | ReadonlyArray<string | number>; message: string }>;

/** The file element a write changes, and where its fields are in the request. */
export type Written = Readonly<{
  section: 'escalationPolicies' | 'templates';
  at: number;
  field: (path: ReadonlyArray<string | number>) => string;
}>;

/** `escalationPolicies[0].steps[1]` → ['escalationPolicies', 0, 'steps', 1]. */
export function pathParts(path: ConfigIssue['path']): Array<string | number> {
  if (typeof path !== 'string') return [...path];
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] === undefined ? m[1]! : Number(m[2])));
}

const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';

/**
 * The API error for what the configuration check refused: problems of the written element (none
 * for a removal) are
 * INVALID_ARGUMENT with one field violation each, in proto names; problems only elsewhere mean the
 * rest of the configuration does not allow the write (something refers to what it removes):
 * FAILED_PRECONDITION.
 */
export function issuesToError(issues: readonly ConfigIssue[], written: Written | null): ApiError {
  const mine: FieldViolation[] = [];
  const others: string[] = [];
  for (const issue of issues) {
    const path = pathParts(issue.path);
    if (written && path[0] === written.section && path[1] === written.at)
      mine.push({ field: written.field(path.slice(2)), description: issue.message });
    else others.push(`${formatPath(path)}: ${issue.message}`);
  }
  const [first, ...more] = mine;
  if (first) return new InvalidArgument(first.field, first.description, more);
  return new FailedPrecondition(`the configuration does not allow this change: ${others.join('; ')}`);
}

/** "Primary NOC (EU)" → "primary-noc-eu": the id of a created policy or template that gives none. */
export function idFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** The id a create gives, or one made from its name; INVALID_ARGUMENT on `name` when none can be made. */
export function createdId(id: string, name: string): string {
  if (id !== '') return id;
  const made = idFromName(name);
  if (made === '')
    throw new InvalidArgument('name', name.trim() === '' ? 'is required' : 'needs a letter or digit to make an id of (or give id)');
  return made;
}

/** Which services' routing names a policy or template (`escalationPolicy`/`template` of the defaults or a rule). */
export function routingUsing(file: ConfigFile, key: 'escalationPolicy' | 'template', id: string): string[] {
  return file.services
    .filter((s) => s.routing !== null && (s.routing[key] === id || s.routing.rules.some((r) => r[key] === id)))
    .map((s) => s.id);
}

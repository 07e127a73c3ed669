/**
 * The stand-in's Jira data: statuses with their categories, the workflow's transitions, and the
 * create-issue field checks with Jira's own messages. Used only by stand-in.ts.
 */

export interface StandInStatus {
  id: string;
  name: string;
  statusCategory: { id: number; key: 'new' | 'indeterminate' | 'done'; name: string };
}

export const STATUSES = {
  todo: { id: '10000', name: 'To Do', statusCategory: { id: 2, key: 'new', name: 'To Do' } },
  inProgress: { id: '3', name: 'In Progress', statusCategory: { id: 4, key: 'indeterminate', name: 'In Progress' } },
  done: { id: '10001', name: 'Done', statusCategory: { id: 3, key: 'done', name: 'Done' } },
} satisfies Record<string, StandInStatus>;

export interface StandInTransition {
  id: string;
  name: string;
  to: StandInStatus;
}

/** Transitions available from each status (a company-managed workflow: names differ from statuses). */
export function transitionsFrom(status: StandInStatus): StandInTransition[] {
  switch (status.id) {
    case STATUSES.todo.id:
      return [
        { id: '21', name: 'Start Progress', to: STATUSES.inProgress },
        { id: '31', name: 'Done', to: STATUSES.done },
      ];
    case STATUSES.inProgress.id:
      return [
        { id: '11', name: 'Stop Progress', to: STATUSES.todo },
        { id: '31', name: 'Done', to: STATUSES.done },
      ];
    default:
      return [{ id: '41', name: 'Reopen', to: STATUSES.todo }];
  }
}

const ISSUE_TYPES = ['Task', 'Bug', 'Incident'];
const PRIORITIES = ['Highest', 'High', 'Medium', 'Low', 'Lowest'];

/** Jira's check of an ADF document: version 1, a doc of nodes, no empty text nodes. */
export function isAdfDoc(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const doc = value as { version?: unknown; type?: unknown; content?: unknown };
  return doc.version === 1 && doc.type === 'doc' && Array.isArray(doc.content) && doc.content.every(isAdfNode);
}

function isAdfNode(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  const n = node as { type?: unknown; text?: unknown; content?: unknown };
  if (typeof n.type !== 'string') return false;
  if (n.type === 'text') return typeof n.text === 'string' && n.text !== '';
  return n.content === undefined || (Array.isArray(n.content) && n.content.every(isAdfNode));
}

const STANDARD = new Set(['project', 'issuetype', 'summary', 'description', 'priority', 'labels', 'components', 'assignee', 'duedate']);

/** The `errors` Jira answers a create with (field → message); {} = the fields are fine. */
export function createErrors(
  fields: Record<string, unknown>,
  opts: { apiVersion: '2' | '3'; project: string; customFields: readonly string[] },
): Record<string, string> {
  const errors: Record<string, string> = {};
  const project = fields.project as { key?: unknown } | undefined;
  if (project?.key !== opts.project) errors.project = 'valid project is required';
  const issuetype = fields.issuetype as { name?: unknown } | undefined;
  if (typeof issuetype?.name !== 'string' || !ISSUE_TYPES.includes(issuetype.name)) errors.issuetype = 'Specify an issue type';
  const summary = fields.summary;
  if (typeof summary !== 'string' || summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
  else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
  else if (/[\r\n]/.test(summary)) errors.summary = 'The summary is invalid because it contains newline characters.';
  if (fields.description !== undefined) {
    if (opts.apiVersion === '3' && !isAdfDoc(fields.description)) {
      errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    }
    if (opts.apiVersion === '2' && typeof fields.description !== 'string') errors.description = 'Operation value must be a string';
  }
  if (fields.priority !== undefined) {
    const priority: unknown = fields.priority;
    const name = typeof priority === 'object' && priority !== null ? (priority as Record<string, unknown>).name : undefined;
    if (typeof name !== 'string' || !PRIORITIES.includes(name)) errors.priority = `Priority name '${String(name)}' is not valid`;
  }
  if (fields.labels !== undefined) {
    if (!Array.isArray(fields.labels) || !fields.labels.every((l) => typeof l === 'string')) {
      errors.labels = 'Operation value must be a string array';
    } else {
      const bad = fields.labels.find((l: string) => /\s/.test(l) || l === '');
      if (bad !== undefined) errors.labels = `The label '${bad}' contains spaces which is invalid.`;
    }
  }
  if (fields.assignee !== undefined) {
    const who = fields.assignee as Record<string, unknown> | null;
    const ok = opts.apiVersion === '3' ? typeof who?.accountId === 'string' : typeof who?.name === 'string';
    if (!ok)
      errors.assignee =
        opts.apiVersion === '3' ? 'Specify a valid value for assignee (accountId)' : 'Specify a valid value for assignee (name)';
  }
  if (fields.duedate !== undefined && (typeof fields.duedate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(fields.duedate))) {
    errors.duedate = "Error parsing date string: use 'yyyy-MM-dd'";
  }
  for (const name of Object.keys(fields)) {
    if (STANDARD.has(name) || opts.customFields.includes(name)) continue;
    errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
  }
  return errors;
}

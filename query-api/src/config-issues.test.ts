import { describe, expect, it } from 'vitest';
import { FailedPrecondition, InvalidArgument } from './errors.js';
import { idFromName, issuesToError, pathParts } from './config-issues.js';
import { policyField } from './policy-mapping.js';
import { templateField } from './template-write-mapping.js';

const policyAt = (at: number, prefix = '') => ({
  section: 'escalationPolicies' as const,
  at,
  field: (p: ReadonlyArray<string | number>) => policyField(p, prefix),
});

describe('configuration issues as API errors', () => {
  it('reads a path written as text or as parts', () => {
    expect(pathParts('escalationPolicies[0].steps[1].targets[0]')).toEqual(['escalationPolicies', 0, 'steps', 1, 'targets', 0]);
    expect(pathParts('templates[12].channels.email.subject')).toEqual(['templates', 12, 'channels', 'email', 'subject']);
    expect(pathParts(['services', 0, 'routing'])).toEqual(['services', 0, 'routing']);
  });

  it('names every problem of the written element as a field violation, in proto names', () => {
    const err = issuesToError(
      [
        { path: 'escalationPolicies[2].steps', message: 'list at least one step' },
        { path: ['escalationPolicies', 2, 'repeat'], message: 'Number must be less than or equal to 20' },
        { path: 'escalationPolicies[0].name', message: 'not this one' },
      ],
      policyAt(2, 'policy.'),
    );
    expect(err).toBeInstanceOf(InvalidArgument);
    expect((err as InvalidArgument).violations).toEqual([
      { field: 'policy.steps', description: 'list at least one step' },
      { field: 'policy.repeat_count', description: 'Number must be less than or equal to 20' },
    ]);
    expect(err.message).toBe('policy.steps: list at least one step; policy.repeat_count: Number must be less than or equal to 20');
  });

  it('an unknown user and a template syntax error name their fields', () => {
    const user = issuesToError(
      [{ path: 'escalationPolicies[1].steps[0].targets[1].user', message: 'no user "mallory" in the user directory' }],
      policyAt(1),
    );
    expect((user as InvalidArgument).field).toBe('steps[0].targets[1].target_id');
    const syntax = issuesToError(
      [{ path: 'templates[0].channels.email.subject', message: 'line 1, column 1: output "{{ alert.summary" not closed' }],
      { section: 'templates', at: 0, field: templateField },
    );
    expect(syntax).toBeInstanceOf(InvalidArgument);
    expect((syntax as InvalidArgument).field).toBe('channels[email].metadata[subject]');
  });

  it('problems only elsewhere (routing naming a removed policy) are FAILED_PRECONDITION', () => {
    const err = issuesToError(
      [{ path: 'services[0].routing.escalationPolicy', message: 'no escalation policy "noc" in this file' }],
      policyAt(3),
    );
    expect(err).toBeInstanceOf(FailedPrecondition);
    expect(err.message).toBe(
      'the configuration does not allow this change: services[0].routing.escalationPolicy: no escalation policy "noc" in this file',
    );
  });

  it.each([
    ['Primary NOC (EU)', 'primary-noc-eu'],
    ['  Über-Wache  ', 'uber-wache'],
    ['db_oncall', 'db_oncall'],
    ['!!!', ''],
    ['x'.repeat(70), 'x'.repeat(63)],
  ])('the id made from the name %j is %j', (name, id) => {
    expect(idFromName(name)).toBe(id);
  });
});

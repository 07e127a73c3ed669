import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evolveConfig, initialConfigState, type ConfigState } from '../index.js';
import { planApply, type PlannedEvent } from './apply.js';
import { checkedEdit, ConfigEditError, planEdit, type ConfigEdit, type PruneTarget } from './edit.js';
import { readConfigFile, type ConfigFile } from './file.js';

const example = fileURLToPath(new URL('../../../examples/oncall.yaml', import.meta.url));
const USERS = new Set(['alice', 'bob', 'carol', 'dave']);
const knownUsers = (ids: string[]) => new Set(ids.filter((id) => USERS.has(id)));

function applied(state: ConfigState, planned: readonly PlannedEvent[]): ConfigState {
  return planned.reduce(
    (s, p, i) =>
      evolveConfig(s, { ...p, id: `id-${i}`, v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' }),
    state,
  );
}
async function exampleState(change: (f: ConfigFile) => void = () => undefined): Promise<ConfigState> {
  const file = await readConfigFile(example);
  change(file);
  return applied(initialConfigState(), planApply(initialConfigState(), file, false));
}
async function plan(state: ConfigState, edit: ConfigEdit, prune: PruneTarget[] = []): Promise<PlannedEvent[]> {
  return planEdit(state, await checkedEdit(state, edit, { knownUsers }), prune);
}
async function problems(state: ConfigState, edit: ConfigEdit): Promise<Array<{ field: string; message: string; missing?: unknown }>> {
  const err = await checkedEdit(state, edit, { knownUsers }).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof ConfigEditError)) throw new Error(`expected ConfigEditError, got ${String(err)}`);
  return err.issues.map(({ field, message, missing }) => (missing ? { field, message, missing } : { field, message }));
}
const noc = (f: ConfigFile) => f.schedules.find((s) => s.id === 'noc')!;

describe('a configuration edit', () => {
  it('adds an override: one ScheduleConfigured, times in the schedule zone', async () => {
    const state = await exampleState();
    const planned = await plan(state, (f) => {
      noc(f).overrides.push({
        kind: 'replace',
        user: 'bob',
        replaces: 'alice',
        start: '2026-09-01T07:00:00Z',
        end: '2026-09-02T07:00:00Z',
      });
    });
    expect(planned.map((p) => p.type)).toStrictEqual(['ScheduleConfigured']);
    const data = planned[0]!.data as { overrides: unknown[] };
    expect(data.overrides).toStrictEqual([
      state.schedules.get('noc')!.overrides[0],
      { kind: 'replace', userId: 'bob', replaces: 'alice', start: '2026-09-01T09:00:00+02:00', end: '2026-09-02T09:00:00+02:00' },
    ]);
  });

  it('removes a rotation nobody names', async () => {
    const planned = await plan(await exampleState(), (f) => {
      noc(f).rotations = noc(f).rotations.filter((r) => r.id !== 'primary');
    });
    expect(planned).toHaveLength(1);
    expect((planned[0]!.data as { rotations: Array<{ id: string }> }).rotations.map((r) => r.id)).toStrictEqual(['after-hours']);
  });

  it('plans nothing for an edit that changes nothing', async () => {
    expect(await plan(await exampleState(), () => undefined)).toStrictEqual([]);
  });

  it('refuses a rotation a policy still names, at the policy', async () => {
    expect(
      await problems(await exampleState(), (f) => {
        noc(f).rotations = noc(f).rotations.filter((r) => r.id !== 'after-hours');
      }),
    ).toStrictEqual([
      {
        field: 'escalationPolicies[1].steps[0].targets[0].rotation',
        message: 'no rotation "after-hours" in schedule "noc"',
        missing: { kind: 'rotation', id: 'noc/after-hours' },
      },
    ]);
  });

  it('refuses an unknown time zone', async () => {
    expect(
      await problems(await exampleState(), (f) => {
        noc(f).timeZone = 'Mars/Olympus';
      }),
    ).toStrictEqual([
      { field: 'schedules[0].timeZone', message: 'unknown time zone "Mars/Olympus" (use an IANA name like Europe/Berlin or UTC)' },
    ]);
  });

  it('refuses an unknown user', async () => {
    expect(
      await problems(await exampleState(), (f) => {
        noc(f).overrides.push({ kind: 'add', user: 'mallory', replaces: null, start: '2026-09-01T09:00', end: '2026-09-01T10:00' });
      }),
    ).toStrictEqual([{ field: 'schedules[0].overrides[1].user', message: 'no user "mallory" in the user directory' }]);
  });

  it('refuses an override that ends before it starts', async () => {
    expect(
      await problems(await exampleState(), (f) => {
        noc(f).overrides.push({ kind: 'add', user: 'bob', replaces: null, start: '2026-09-02T09:00', end: '2026-09-01T09:00' });
      }),
    ).toStrictEqual([{ field: 'schedules[0].overrides[1].end', message: 'must be after start (2026-09-02T09:00:00+02:00)' }]);
  });

  it('refuses deleting a schedule a policy uses, at the policy', async () => {
    expect(
      await problems(await exampleState(), (f) => {
        f.schedules = f.schedules.filter((s) => s.id !== 'noc');
      }),
    ).toStrictEqual([
      {
        field: 'escalationPolicies[0].steps[0].targets[0].schedule',
        message: 'no schedule "noc" in this file',
        missing: { kind: 'schedule', id: 'noc' },
      },
      {
        field: 'escalationPolicies[1].steps[0].targets[0].rotation',
        message: 'no schedule "noc" in this file',
        missing: { kind: 'schedule', id: 'noc' },
      },
    ]);
  });

  it('removes only what the edit names in prune', async () => {
    const state = await exampleState((f) => {
      f.schedules.push({ ...noc(f), id: 'spare-a' }, { ...noc(f), id: 'spare-b' });
    });
    const planned = await plan(
      state,
      (f) => {
        f.schedules = f.schedules.filter((s) => !s.id.startsWith('spare-'));
      },
      [{ section: 'schedules', id: 'spare-a' }],
    );
    expect(planned).toStrictEqual([{ type: 'ScheduleRemoved', data: { scheduleId: 'spare-a' } }]);
  });

  it('is not blocked by a problem the configuration already had', async () => {
    // "erin" was a user when the schedule was applied; she has since left the directory.
    const state = await exampleState((f) => {
      noc(f).overrides.push({ kind: 'add', user: 'erin', replaces: null, start: '2026-08-01T07:00:00Z', end: '2026-08-01T08:00:00Z' });
    });
    const planned = await plan(state, (f) => {
      noc(f).overrides.push({ kind: 'add', user: 'dave', replaces: null, start: '2026-09-01T09:00', end: '2026-09-01T10:00' });
    });
    expect(planned.map((p) => p.type)).toStrictEqual(['ScheduleConfigured']);
  });

  it('returns a new file as well as changing the given one', async () => {
    const planned = await plan(await exampleState(), (f) => ({
      ...f,
      escalationPolicies: f.escalationPolicies.map((p) => ({ ...p, repeat: 2 })),
    }));
    expect(planned.map((p) => p.type)).toStrictEqual(['EscalationPolicyConfigured', 'EscalationPolicyConfigured']);
  });
});

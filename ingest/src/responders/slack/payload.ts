import { z } from 'zod';
import { decodeSlackTarget, SLACK_ACTION, snoozeSecondsOf, type AlertCommandKind, type SlackAlertTarget } from '@oncall/contracts';

/** The parts of Slack's `block_actions` payload we read (Slack sends many more; they are ignored). */
const Action = z.object({
  action_id: z.string(),
  block_id: z.string().optional(),
  value: z.string().optional(),
  selected_option: z.object({ value: z.string() }).nullish(),
  action_ts: z.string().optional(),
});
const Block = z.object({ block_id: z.string().optional(), elements: z.array(z.unknown()).optional() }).passthrough();
const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1) }),
  team: z.object({ id: z.string() }).nullish(),
  trigger_id: z.string().optional(),
  response_url: z.string().url().optional(),
  actions: z.array(Action).min(1),
  message: z
    .object({ blocks: z.array(Block).optional() })
    .passthrough()
    .optional(),
});

/** A button press (or snooze choice) to put on the command path. */
export type SlackPress = Readonly<{
  kind: 'press';
  slackUserId: string;
  teamId: string | null;
  command: Extract<AlertCommandKind, 'acknowledge' | 'resolve' | 'escalate' | 'snooze'>;
  target: SlackAlertTarget;
  snoozeSeconds: number | null;
  responseUrl: string | null;
  /** Idempotency of Slack's retries of this one interaction. */
  key: string;
}>;

/** What an interaction is: a press, something that needs no command (Open), or not ours. */
export type SlackInteraction = SlackPress | Readonly<{ kind: 'ignored'; why: string }> | Readonly<{ kind: 'invalid'; error: string }>;

const COMMANDS: Readonly<Record<string, SlackPress['command']>> = {
  [SLACK_ACTION.acknowledge]: 'acknowledge',
  [SLACK_ACTION.resolve]: 'resolve',
  [SLACK_ACTION.escalate]: 'escalate',
  [SLACK_ACTION.snooze]: 'snooze',
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The snooze menu's alert: a sibling button of the same actions block names it. */
function siblingTarget(blocks: readonly z.infer<typeof Block>[] | undefined, blockId: string | undefined): SlackAlertTarget | null {
  const block = blocks?.find((b) => b.block_id === blockId);
  for (const e of block?.elements ?? []) {
    if (isRecord(e) && typeof e.value === 'string') {
      const target = decodeSlackTarget(e.value);
      if (target !== null) return target;
    }
  }
  return null;
}

/** Reads the form field `payload` of an interactivity request. */
export function parseInteraction(payloadField: unknown): SlackInteraction {
  if (typeof payloadField !== 'string' || payloadField === '') return { kind: 'invalid', error: 'the form field "payload" is missing' };
  let raw: unknown;
  try {
    raw = JSON.parse(payloadField);
  } catch {
    return { kind: 'invalid', error: 'the form field "payload" is not JSON' };
  }
  if (isRecord(raw) && typeof raw.type === 'string' && raw.type !== 'block_actions')
    return { kind: 'ignored', why: `interaction type ${raw.type}` };
  const parsed = BlockActions.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: 'invalid', error: `payload ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
  }
  const p = parsed.data;
  const action = p.actions[0]!;
  const command = COMMANDS[action.action_id];
  if (action.action_id === SLACK_ACTION.open) return { kind: 'ignored', why: 'the Open link' };
  if (command === undefined) return { kind: 'invalid', error: `unknown action ${JSON.stringify(action.action_id.slice(0, 50))}` };
  let snoozeSeconds: number | null = null;
  let target: SlackAlertTarget | null;
  if (command === 'snooze') {
    snoozeSeconds = snoozeSecondsOf(action.selected_option?.value ?? '');
    if (snoozeSeconds === null) return { kind: 'invalid', error: 'the snooze option is not one of the menu' };
    target = siblingTarget(p.message?.blocks, action.block_id);
  } else target = decodeSlackTarget(action.value ?? '');
  if (target === null) return { kind: 'invalid', error: 'the action does not name an alert' };
  const teamId = p.team?.id ?? null;
  const once = p.trigger_id ?? action.action_ts ?? null;
  if (once === null) return { kind: 'invalid', error: 'the payload has neither trigger_id nor action_ts' };
  return {
    kind: 'press',
    slackUserId: p.user.id,
    teamId,
    command,
    target,
    snoozeSeconds,
    responseUrl: p.response_url ?? null,
    key: `slack:${teamId ?? ''}:${p.user.id}:${once}:${command}`,
  };
}

import type { AlertEvent } from '@oncall/contracts';

/** Who did it and what happened, in words, for the alert timeline. Pure. */
export function describe(event: AlertEvent): { actor: string; message: string } {
  switch (event.type) {
    case 'AlertTriggered':
      return { actor: `source:${event.data.source}`, message: `triggered: ${event.data.summary}` };
    case 'AlertUpdated':
      return { actor: 'source', message: `updated ${event.data.changed.join(', ')}` };
    case 'AlertRepeated':
      return { actor: 'source', message: `repeated (${event.data.repeatCount} ${event.data.repeatCount === 1 ? 'repeat' : 'repeats'} so far)` };
    case 'AlertAcknowledged':
      return event.data.by === 'user'
        ? { actor: `user:${event.data.userId ?? 'unknown'}`, message: withNote('acknowledged', event.data.note) }
        : { actor: 'source', message: 'acknowledged by the source' };
    case 'AlertResolved':
      return event.data.by === 'user'
        ? { actor: `user:${event.data.userId ?? 'unknown'}`, message: withNote('resolved', event.data.note) }
        : { actor: 'source', message: 'resolved by the source' };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

const withNote = (what: string, note: string): string => (note ? `${what}: ${note}` : what);

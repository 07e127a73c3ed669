import type { TicketEvent } from '@oncall/contracts';

const user = (id: string | null): string => (id === null ? 'api' : `user:${id}`);

/** Timeline words for the ticket events of an alert. Pure. */
export function describeTicket(event: TicketEvent): { actor: string; message: string } {
  const provider = `ticket:${event.data.providerId}`;
  switch (event.type) {
    case 'TicketRequested': {
      const d = event.data;
      return {
        actor: d.requestedBy === 'rule' ? 'escalator' : user(d.userId),
        message: `ticket requested from ${d.providerId}${d.requestedBy === 'rule' ? ' by a routing rule' : ''}`,
      };
    }
    case 'TicketCreated': {
      const d = event.data;
      const found = d.found ? ' (found: an earlier attempt had created it)' : '';
      return { actor: provider, message: `ticket ${d.ticketKey} created${d.url ? ` (${d.url})` : ''}${found}` };
    }
    case 'TicketUpdated': {
      const d = event.data;
      const to = d.state === null ? 'commented' : `moved to ${d.state}`;
      return { actor: provider, message: `ticket ${d.ticketKey} ${to} (alert ${d.change})` };
    }
    case 'TicketSyncFailed': {
      const d = event.data;
      const status = d.httpStatus === null ? '' : ` (HTTP ${d.httpStatus})`;
      const next = d.permanent ? '; not retried' : d.retryAt ? `; retry at ${d.retryAt}` : '';
      const what = d.ticketKey === null ? d.operation : `${d.operation} of ${d.ticketKey}`;
      return { actor: provider, message: `ticket ${what} failed${status}, attempt ${d.attempt}: ${d.error}${next}` };
    }
    case 'TicketLinked': {
      const d = event.data;
      return { actor: user(d.userId), message: `linked to ticket ${d.ticketKey} in ${d.providerId}${d.url ? ` (${d.url})` : ''}` };
    }
    case 'TicketStatusChanged': {
      const d = event.data;
      const by = d.actor ? ` by ${d.actor}` : '';
      const echo = d.echo ? ' (our own change, echoed)' : '';
      const comment = d.comment ? `; comment: ${d.comment}` : '';
      return { actor: provider, message: `ticket ${d.ticketKey} is now ${d.status}${by}${echo}${comment}` };
    }
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

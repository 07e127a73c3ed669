import { runUntilSignal } from '@oncall/shared/run';
import { startTicketBridge } from './index.js';

await runUntilSignal('ticket-bridge', async (log) => {
  const service = await startTicketBridge({ log });
  return () => service.stop();
});

import { runUntilSignal } from '@oncall/shared/run';
import { startDispatcher } from './index.js';

await runUntilSignal('dispatcher', async (log) => {
  const service = await startDispatcher({ log });
  return () => service.stop();
});

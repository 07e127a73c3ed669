import { runUntilSignal } from '@oncall/shared/run';
import { startEscalator } from './index.js';

await runUntilSignal('escalator', async (log) => {
  const service = await startEscalator({ log });
  return () => service.stop();
});

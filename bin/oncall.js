#!/usr/bin/env -S node --max-semi-space-size=32
// The `oncall` command. The project runs its TypeScript sources directly through tsx.
// --max-semi-space-size=32: see NODE_FLAGS in bench/processes.ts (less promotion, +12–20% ingest throughput).
import { register } from 'tsx/esm/api';

register();
await import('../infra/src/oncall.ts');

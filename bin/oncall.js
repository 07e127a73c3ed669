#!/usr/bin/env node
// The `oncall` command. The project runs its TypeScript sources directly through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../infra/src/cli.ts');

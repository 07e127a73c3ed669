import type { FastifyInstance } from 'fastify';
import type { ResponderDeps } from './index.js';

// eslint-disable-next-line @typescript-eslint/require-await, @typescript-eslint/no-unused-vars
export async function twilioRoutes(_app: FastifyInstance, _deps: ResponderDeps): Promise<void> {}

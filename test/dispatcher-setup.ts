import { emailNotifier, slackNotifier } from '../dispatcher/src/notifiers/index.js';
import { startDispatcher } from '@oncall/dispatcher';
import type { Notifiers } from '../dispatcher/src/notifiers/index.js';
import type { SlackFake, SmtpFake } from './fakes/index.js';
import type { TestPipeline } from './pipeline.js';
import { testLog } from './harness.js';

export const slackNotifierFor = (fake: SlackFake) => slackNotifier({ token: fake.token, apiUrl: fake.apiUrl, timeoutMs: 5000 });
export const emailNotifierFor = (fake: SmtpFake) =>
  emailNotifier({ host: fake.host, port: fake.port, secure: false, from: 'On-call <oncall@example.com>', timeoutMs: 5000 });

/** The dispatcher in this process with the given notifiers and fast retries. */
export async function startDispatcherForTest(p: TestPipeline, notifiers: Notifiers) {
  return startDispatcher({
    nc: await p.nats.connect('dispatcher'),
    notifiers,
    log: testLog,
    options: { retryBaseMs: 100, retryMaxMs: 1000 },
  });
}

import { FailurePlan, recordOf, Recorder, sendFailure, startHttpServer, type HttpFailure, type RecordedRequest } from './http.js';

export interface WebhookFakeOptions {
  /** Normal answer; default 200 `{"ok":true}` with an `x-request-id`. */
  respond?: (request: RecordedRequest) => { status: number; headers?: Record<string, string>; body?: string };
}

export interface WebhookFake {
  /** `http://127.0.0.1:PORT`; any path is accepted (`${url}/hooks/x`). */
  readonly url: string;
  readonly requests: Recorder<RecordedRequest>;
  failNext(failure: HttpFailure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

/** A generic HTTP receiver: records every request (any method, any path) and answers 200 unless told otherwise. */
export async function startWebhookFake(opts: WebhookFakeOptions = {}): Promise<WebhookFake> {
  const requests = new Recorder<RecordedRequest>();
  const failures = new FailurePlan<HttpFailure>();
  let seq = 0;
  const respond =
    opts.respond ??
    (() => {
      seq += 1;
      return { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': `req-${seq}` }, body: '{"ok":true}' };
    });

  const server = await startHttpServer((req, res, body) => {
    const request = recordOf(req, body);
    requests.push(request);
    const failure = failures.take();
    if (failure !== undefined) return sendFailure(req, res, failure, (status) => ({ error: `injected ${status}` }));
    const answer = respond(request);
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body ?? '');
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    failNext: (failure, times = 1) => failures.add(failure, times),
    reset: () => {
      requests.clear();
      failures.clear();
    },
    close: () => server.close(),
  };
}

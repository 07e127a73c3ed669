import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-call state for SDKs whose methods take no AbortSignal and whose errors drop response
 * headers (Slack's rate-limit error keeps only integer seconds, Twilio's RestException keeps no
 * headers). The notifier runs the SDK call inside `withCall`; the transport hook it installed in
 * the SDK (a fetch function, an axios interceptor) reads the signal and records the answer.
 */
export interface CallState {
  signal?: AbortSignal;
  /** The last HTTP answer of this call. */
  response?: { status: number; retryAfter: string | null };
}

const storage = new AsyncLocalStorage<CallState>();

export function withCall<T>(state: CallState, fn: () => Promise<T>): Promise<T> {
  return storage.run(state, fn);
}

export function currentCall(): CallState | undefined {
  return storage.getStore();
}

/** The call's signal combined with the SDK's own (its timeout), if either exists. */
export function combinedSignal(own: AbortSignal | null | undefined): AbortSignal | undefined {
  const call = currentCall()?.signal;
  if (own === null || own === undefined) return call;
  if (call === undefined) return own;
  return AbortSignal.any([own, call]);
}

/** Rejects as soon as `signal` aborts, for SDKs that cannot be cancelled (the send may still complete). */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
}

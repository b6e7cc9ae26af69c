import { HttpError } from './HttpError';

/**
 * A request's deadline: every read of its body ends when its signal aborts, with the reason the
 * adapter gave (a 408 past the deadline, a ClientGoneError when the client left), so no read ever
 * waits on an event that may never come.
 */
export function requestTimeout(seconds: number): HttpError {
  return new HttpError(408, 'request_timeout', `expected the whole request within ${seconds} s, got less by then`);
}

/** Aborts with requestTimeout(seconds) after that long (the timer does not keep the process alive); `clear` stops it. */
export function deadline(seconds: number): { signal: AbortSignal; controller: AbortController; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(requestTimeout(seconds)), seconds * 1000);
  timer.unref();
  return { signal: controller.signal, controller, clear: () => clearTimeout(timer) };
}

/** The error an aborted read ends with: the signal's reason when it is one, else a 408. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error && !(reason instanceof DOMException)
    ? reason
    : new HttpError(408, 'request_timeout', 'expected the whole request before its deadline, got less by then');
}

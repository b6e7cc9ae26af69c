import type { Logger } from '../logger/createLogger';
import type { ApiRequest } from './ApiRequest';
import { type ApiResponse, errorResponse, httpErrorResponse } from './ApiResponse';
import { isClientGone } from './clientGone';
import { HttpError } from './HttpError';

/**
 * The answer of a write route that did not succeed, logged at the level it deserves:
 * - the client's to fix (HttpError): its 4xx, logged `warn` with the reason;
 * - the client went away (a reset, a request cut short): nothing wrong here, and the front door
 *   that saw it go logs it (`info`); the answer is never delivered (499, nginx's "client closed
 *   request");
 * - anything else, a fault of the server or the deployment: logged `error`, 503 `unavailable`
 *   with `unavailable` as the message (nothing was accepted; a retry is safe).
 */
export function refusedRequest(
  error: unknown,
  req: Pick<ApiRequest, 'requestId' | 'method' | 'path'>,
  options: { log: Logger; what: string; unavailable: string; onFault?: () => void },
): ApiResponse {
  const { log, what } = options;
  if (error instanceof HttpError) {
    log.warn(`${what} refused`, { status: error.statusCode, code: error.code, reason: error.message });
    return httpErrorResponse(error, req.requestId);
  }
  if (isClientGone(error)) {
    log.debug('request ended: the client went away', {
      method: req.method,
      path: req.path,
      reason: error instanceof Error ? error.message : String(error),
    });
    return errorResponse(499, 'client_closed_request', 'the client went away before the request was answered', req.requestId);
  }
  log.error(`${what} failed`, { error });
  options.onFault?.();
  return errorResponse(503, 'unavailable', options.unavailable, req.requestId);
}

import { PipelineError } from '../errors';

/**
 * The client went away before its request was read or its answer sent: nobody is left to answer,
 * and nothing is wrong with the server. Logged at `info` (never ERROR), never retried.
 */
export class ClientGoneError extends PipelineError {
  constructor(message = 'the client went away before the request was answered', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientGoneError';
  }
}

/**
 * Errors that mean the other end left: a reset, a write to a closed connection, a stream cut
 * short, and Node's HTTP parser finding the connection closed in the middle of a request.
 */
const GONE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'HPE_INVALID_EOF_STATE',
]);

/** True when `error` says the client went away (see ClientGoneError), at any depth of its causes. */
export function isClientGone(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    if (e instanceof ClientGoneError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && GONE_CODES.has(code)) return true;
    // Node's IncomingMessage cut short: `Error: aborted` (code ECONNRESET on recent versions).
    if (e instanceof Error && e.message === 'aborted') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

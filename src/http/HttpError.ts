import { PipelineError } from '../errors';
import { describeValue } from './describeValue';

/** An error that is the client's to fix, with the HTTP status and a message saying what was expected. */
export class HttpError extends PipelineError {
  /** Headers the answer must carry (a 401's WWW-Authenticate). */
  readonly headers: Record<string, string>;
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options);
    this.name = 'HttpError';
    this.headers = options?.headers ?? {};
  }
}

/**
 * The 413 of a body past its limit. `hint` follows "got …" in the message: why the limit is what it
 * is, and where larger photos go (uploadLimitHint).
 */
export function tooLarge(limit: number, got?: number, hint = ''): HttpError {
  return new HttpError(413, 'too_large', `expected an upload of at most ${limit} bytes, got ${got === undefined ? 'more' : got}${hint}`);
}

/** A path's {id} that is no image id: 400, on every route that takes one. */
export function invalidImageId(id: string): HttpError {
  return new HttpError(
    400,
    'invalid_image_id',
    `expected an image id (a UUIDv7 such as 0190f5c2-8a3b-7c4d-9e5f-0123456789ab), got ${describeValue(id)}`,
  );
}

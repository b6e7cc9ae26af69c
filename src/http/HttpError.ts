import { PipelineError } from '../errors';

/** An error that is the client's to fix, with the HTTP status and a message saying what was expected. */
export class HttpError extends PipelineError {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/**
 * Error classes shared by the core. Each sets `name` and carries `cause`, and each says whether
 * retrying could help. Only bad input (InvalidInputError and its subclasses: an invalid message, an
 * undecodable or oversized image) is terminal and goes to the dead-letter queue with its reason, at
 * once. Everything else is a fault of the deployment or of the moment — a missing model, font or
 * native module, a missing bucket or queue, an object not (yet) there, a network fault — and is
 * retried: the record is reported as a batch item failure and the queue's redrive policy decides
 * (maxReceiveCount, then the DLQ, from which `npm run dlq -- redrive` brings it back once fixed).
 */
export class PipelineError extends Error {
  /** Whether a retry of the same input might succeed once the deployment or the moment is fixed. */
  readonly retryable: boolean = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
  }
}

/** The input itself is wrong (bad image, bad message, bad request): never retried. */
export class InvalidInputError extends PipelineError {
  override readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidInputError';
  }
}

/** A message on a queue does not match its schema. */
export class InvalidMessageError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidMessageError';
  }
}

/**
 * Bytes that sharp cannot decode, an image format we do not accept, or an image its decoder,
 * encoder or the label drawing fails on. `corrupt`: the bytes claim an accepted format but their
 * structure is broken (a JPEG cut short, a marker where none may be), as opposed to bytes that
 * are no image we take at all.
 */
export class UnsupportedImageError extends InvalidInputError {
  readonly corrupt: boolean;
  constructor(message: string, options?: { cause?: unknown; corrupt?: boolean }) {
    super(message, options);
    this.name = 'UnsupportedImageError';
    this.corrupt = options?.corrupt ?? false;
  }
}

/**
 * Which limit an image broke: its bytes, its pixels, a side longer than the outputs can hold, the
 * scans of a progressive JPEG, or the time budget of a decode or encode (see src/image/decodeLimits.ts).
 */
export type ImageLimit = 'bytes' | 'pixels' | 'side' | 'scans' | 'time';

/** An image over a configured or inherent limit (bytes, pixels, side, scans, decode time). */
export class ImageTooLargeError extends InvalidInputError {
  readonly limit: ImageLimit;
  constructor(message: string, options?: { cause?: unknown; limit?: ImageLimit }) {
    super(message, options);
    this.name = 'ImageTooLargeError';
    this.limit = options?.limit ?? 'pixels';
  }
}

/** An object the pipeline expected in the store is not there (yet: retried, a write may be late). */
export class ObjectNotFoundError extends PipelineError {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`object not found: ${key}`, options);
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * A write conditional on the version of an object that was read found another version there (a
 * copy with `ifMatch`): nothing was written. The caller decides: read again, or write what it has.
 */
export class ObjectChangedError extends PipelineError {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`object changed since it was read: ${key}`, options);
    this.name = 'ObjectChangedError';
  }
}

/** A store or queue call failed in a way that may pass (network, 5xx, throttling). */
export class TransientError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/**
 * Configuration is missing or malformed, or names a bucket or queue that does not exist: raised at
 * start, or by a store or queue call (retried: the deployment is fixed, not the message).
 */
export class ConfigError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A native module, the model or the font could not be loaded; the message says how to fix it (retried). */
export class RuntimeLoadError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeLoadError';
  }
}

/** True when an error should be retried rather than dead-lettered: all but bad input. Unknown errors are retried. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof PipelineError) return error.retryable;
  return true;
}

/**
 * `Name: message` of an error: the reason stored in the status records, the dead-letter queues and
 * the status API, wherever a stage, ingest or an upload records one. Our errors' messages already
 * say what was expected and what arrived; a cause is added only for transient faults (what the
 * store or queue said), and never an object-not-found's cause, which would show a server path.
 */
export function errorReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error && error instanceof TransientError ? ` (cause: ${error.cause.message.split('\n')[0]})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

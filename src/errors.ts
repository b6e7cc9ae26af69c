/**
 * Error classes shared by the core. Each sets `name` and carries `cause`, and each says whether
 * retrying could help: a queue consumer retries only `retryable` errors; everything else is a
 * terminal failure that goes to the dead-letter queue with its reason, at once.
 */
export class PipelineError extends Error {
  /** Whether a retry of the same input might succeed (transient infrastructure faults). */
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
  }
}

/** The input itself is wrong (bad image, bad message, bad request): never retried. */
export class InvalidInputError extends PipelineError {
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

/** Bytes that sharp cannot decode, or an image format we do not accept. */
export class UnsupportedImageError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnsupportedImageError';
  }
}

/** An image over the configured byte or pixel limit. */
export class ImageTooLargeError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageTooLargeError';
  }
}

/** An object the pipeline expected in the store is not there. */
export class ObjectNotFoundError extends PipelineError {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`object not found: ${key}`, options);
    this.name = 'ObjectNotFoundError';
  }
}

/** A store or queue call failed in a way that may pass (network, 5xx, throttling). */
export class TransientError extends PipelineError {
  override readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** Configuration is missing or malformed: raised once at start, before any work. */
export class ConfigError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A native module or the model could not be loaded; the message says how to fix it. */
export class RuntimeLoadError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeLoadError';
  }
}

/** True when an error should be retried rather than dead-lettered. Unknown errors are retried. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof PipelineError) return error.retryable;
  return true;
}

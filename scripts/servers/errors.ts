/** Base class of the errors raised while installing or running the local S3/SQS servers. */
export class LocalServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalServerError';
  }
}

/** The installer (scripts/servers/install.sh) failed or left no binary behind. */
export class ServerInstallError extends LocalServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerInstallError';
  }
}

/** A server process exited early or did not answer its readiness probe in time. */
export class ServerStartError extends LocalServerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerStartError';
  }
}

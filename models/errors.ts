/**
 * Errors of the model build. One base class so callers can tell "the model could not be built"
 * from anything else; each subclass names what was expected and what arrived.
 */
export class ModelBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelBuildError';
  }
}

/** The downloaded source package is not the one we pinned. */
export class IntegrityError extends ModelBuildError {
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: integrity mismatch: expected ${expected}, got ${actual}`);
    this.name = 'IntegrityError';
  }
}

/** The TF graph holds something the converter does not know how to translate. */
export class UnsupportedGraphError extends ModelBuildError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedGraphError';
  }
}

/** The produced .onnx differs from the committed provenance record. */
export class RecordMismatchError extends ModelBuildError {
  constructor(message: string) {
    super(message);
    this.name = 'RecordMismatchError';
  }
}

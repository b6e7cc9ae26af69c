import { RuntimeLoadError } from '../errors';

/** Why the detector could not start. */
export type DetectorLoadReason = 'model-missing' | 'model-invalid' | 'runtime-unavailable';

/**
 * The detector could not start: the model file is missing, onnxruntime-node rejected it, or
 * onnxruntime-node itself could not be loaded. One error whose message says what to do, with the
 * original error(s) as `cause` (an AggregateError when several attempts failed).
 */
export class DetectorLoadError extends RuntimeLoadError {
  constructor(
    message: string,
    readonly reason: DetectorLoadReason,
    readonly modelPath: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DetectorLoadError';
  }
}

import { InvalidInputError } from '../errors';

/** A detection whose label is not one of the detector's COCO names (a message the detector did not write). */
export class UnknownLabelError extends InvalidInputError {
  constructor(
    readonly label: string,
    options?: { cause?: unknown },
  ) {
    super(
      `expected detections labelled with COCO names (such as "dog" or "traffic light"), got ${JSON.stringify(label.slice(0, 64))}`,
      options,
    );
    this.name = 'UnknownLabelError';
  }
}

import { newImageId } from '../domain/imageId';
import { imageKey } from '../domain/keys';
import { errorReason, type ImageLimit, ImageTooLargeError, UnsupportedImageError } from '../errors';
import { HttpError } from '../http/HttpError';
import type { ImageInfo } from '../image/openImage';
import { type AcceptDeps, type AcceptedUpload, checkUploadBytes, recordAndQueue } from './admitUpload';

export type { AcceptDeps, AcceptedUpload } from './admitUpload';

/**
 * The upload stage's core: checks the bytes are an image we accept (header only, fast), stores
 * them untouched as `original/<id>.<ext>`, records them as `owner`'s and queues the resize. The id is made here, never taken
 * from the client. The check, the record and the message are shared with the bucket's ingest
 * (src/upload/admitUpload.ts).
 */
export async function acceptUpload(
  bytes: Buffer,
  deps: AcceptDeps,
  upload: { owner: string; requestId?: string | undefined },
): Promise<AcceptedUpload> {
  const { owner, requestId } = upload;
  const startedAt = new Date();
  const t0 = performance.now();
  let info: ImageInfo;
  try {
    info = await checkUploadBytes(bytes, deps.config);
  } catch (error) {
    throw refusalOf(error);
  }
  const imageId = newImageId();
  const key = imageKey('original', imageId, info.ext);
  // The order decides what a failure means for the client (the handler answers 503 "nothing was
  // accepted, try again" to anything thrown here) and for the status API:
  // 1. the original fails to store: nothing exists; a retry is safe.
  // 2. the upload record fails to write: an original no record names is left behind; nothing
  //    queued, the status API does not know the id (404, and GET /images leaves it out); a retry
  //    is safe.
  // 3. the resize message fails to send: the record is rewritten as failed (best effort), so the
  //    orphan shows as failed, not as waiting for ever; nothing queued; a retry is safe.
  // 4. sent: the photo is on its way and the client gets 202. Sending last is what makes a 503
  //    true: sending first, as this did, let a failed record write answer 503 for a photo that was
  //    processed anyway, and the client's retry made a duplicate.
  await deps.store.put(key, bytes, { contentType: info.contentType });
  return recordAndQueue({ imageId, owner, originalKey: key, info, bytes: bytes.length, startedAt, t0, requestId }, deps, {
    state: 'failed',
    reason: (error) => `not queued, the client was told to try again: ${errorReason(error)}`,
  });
}

/** The limit an image broke, as the code of the 413 that says so. */
const LIMIT_CODES: Record<ImageLimit, string> = {
  bytes: 'too_large',
  pixels: 'too_many_pixels',
  side: 'side_too_long',
  scans: 'too_many_scans',
  time: 'too_slow_to_decode',
};

/**
 * How POST /upload refuses bytes that fail the check: 413 for a broken limit (its code names which),
 * 422 for an image of an accepted format whose structure is broken (a JPEG cut short), 415 for
 * bytes that are no image we take. Anything else is thrown as it is.
 */
export function refusalOf(error: unknown): unknown {
  if (error instanceof ImageTooLargeError) return new HttpError(413, LIMIT_CODES[error.limit], error.message, { cause: error });
  if (error instanceof UnsupportedImageError && error.corrupt) return new HttpError(422, 'corrupt_image', error.message, { cause: error });
  if (error instanceof UnsupportedImageError) return new HttpError(415, 'not_an_image', error.message, { cause: error });
  return error;
}

import { imageKey, parseImageKey } from '../domain/keys';
import { ObjectNotFoundError } from '../errors';
import { contentTypeForKey } from '../ports/contentType';
import type { ObjectStore } from '../ports/ObjectStore';
import { assembleStatus, type ImageKind, readStatusRecords, STAGE_OF_KIND } from './imageStatus';

export type ImageResult =
  | { type: 'redirect'; location: string; key: string }
  | { type: 'bytes'; body: Buffer; contentType: string; key: string }
  | { type: 'missing'; reason: string; unknownImage: boolean };

/**
 * One of the four images of an image id (already validated with isImageId): a short-lived
 * presigned URL when the store makes them (S3), else the bytes (the embedded folder store).
 *
 * The key is never built from the request alone: the original's extension is the uploaded one, so
 * its key comes from the upload stage's record (`output_key`), and every key, recorded or built,
 * must parse as `<folder>/<this id>.<ext>` before it is used.
 */
export async function imageResponse(
  store: ObjectStore,
  imageId: string,
  kind: ImageKind,
  options: { presignExpiresSeconds: number },
): Promise<ImageResult> {
  const records = await readStatusRecords(store, imageId);
  if (Object.keys(records).length === 0) return { type: 'missing', reason: `no image with id ${imageId}`, unknownImage: true };
  const stage = STAGE_OF_KIND[kind];
  const record = records[stage];
  if (record?.state !== 'done') {
    return {
      type: 'missing',
      reason: `the ${kind} image of ${imageId} is not ready: stage ${stage} is ${assembleStatus(imageId, records).stages[stage].state}`,
      unknownImage: false,
    };
  }
  const recorded = record.output_key !== undefined ? parseImageKey(record.output_key) : undefined;
  const key =
    recorded && recorded.folder === kind && recorded.imageId === imageId
      ? imageKey(kind, imageId, recorded.ext)
      : kind === 'original'
        ? undefined
        : imageKey(kind, imageId);
  if (key === undefined) {
    return { type: 'missing', reason: `the upload record of ${imageId} names no original image key`, unknownImage: false };
  }

  if (store.presignGet) {
    if (!(await store.exists(key)))
      return { type: 'missing', reason: `the ${kind} image of ${imageId} is missing from the store`, unknownImage: false };
    const location = await store.presignGet(key, options.presignExpiresSeconds);
    if (location !== undefined) return { type: 'redirect', location, key };
  }
  try {
    const object = await store.get(key);
    return { type: 'bytes', body: object.body, contentType: object.contentType ?? contentTypeForKey(key), key };
  } catch (error) {
    if (error instanceof ObjectNotFoundError)
      return { type: 'missing', reason: `the ${kind} image of ${imageId} is missing from the store`, unknownImage: false };
    throw error;
  }
}

import { ObjectNotFoundError } from '../errors';
import { contentTypeForKey } from '../ports/contentType';
import type { ObjectStore } from '../ports/ObjectStore';
import { assembleStatus, type ImageKind, readOwnedRecords, STAGE_OF_KIND } from './imageStatus';
import { imageKeyOf } from './imageUrls';

export type ImageResult =
  | { type: 'redirect'; location: string; key: string }
  | { type: 'bytes'; body: Buffer; contentType: string; key: string }
  | { type: 'missing'; reason: string; unknownImage: boolean };

/**
 * One of the four images of `owner`'s photo `imageId` (already validated with isImageId), checked
 * to be theirs first (readOwnedRecords: someone else's photo is an unknown id): a presigned URL for
 * that object, for `presignExpiresSeconds` (S3's, or the folder store's that the embedded server
 * serves), or the bytes from a store that makes no URLs.
 */
export async function imageResponse(
  store: ObjectStore,
  owner: string,
  imageId: string,
  kind: ImageKind,
  options: { presignExpiresSeconds: number },
): Promise<ImageResult> {
  const records = await readOwnedRecords(store, owner, imageId);
  if (!records) return { type: 'missing', reason: `no image with id ${imageId}`, unknownImage: true };
  const stage = STAGE_OF_KIND[kind];
  if (records[stage]?.state !== 'done') {
    return {
      type: 'missing',
      reason: `the ${kind} image of ${imageId} is not ready: stage ${stage} is ${assembleStatus(imageId, records).stages[stage].state}`,
      unknownImage: false,
    };
  }
  const key = imageKeyOf(imageId, kind, records);
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

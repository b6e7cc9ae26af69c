import { imageKey, parseImageKey } from '../domain/keys';
import type { StageName } from '../domain/stages';
import type { ObjectStore } from '../ports/ObjectStore';
import type { StageStatus } from '../status/stageStatus';
import { assembleStatus, IMAGE_KINDS, type ImageKind, type ImageStatus, STAGE_OF_KIND } from './imageStatus';

/**
 * Where one of a photo's four images is, from its records: the key is never built from the request
 * alone. The original's extension is the uploaded one, so its key comes from the upload record
 * (`output_key`); every key, recorded or built, must parse as `<folder>/<this id>.<ext>`. Undefined
 * until the image's stage is done (or when the record names no original).
 */
export function imageKeyOf(imageId: string, kind: ImageKind, records: Partial<Record<StageName, StageStatus>>): string | undefined {
  const record = records[STAGE_OF_KIND[kind]];
  if (record?.state !== 'done') return undefined;
  const recorded = record.output_key !== undefined ? parseImageKey(record.output_key) : undefined;
  if (recorded && recorded.folder === kind && recorded.imageId === imageId) return imageKey(kind, imageId, recorded.ext);
  return kind === 'original' ? undefined : imageKey(kind, imageId);
}

/**
 * The photo's images as URLs a browser may GET without the caller's key or token (an <img> sends
 * none): presigned for one object each, for `expiresInSeconds` (S3's, or the folder store's that
 * the embedded server serves). Only the owner's own answers carry them: the caller of the status
 * and list routes was found to own the photo before these are made. Null until an image is done.
 */
export async function presignedImageUrls(
  store: ObjectStore,
  imageId: string,
  records: Partial<Record<StageName, StageStatus>>,
  expiresInSeconds: number,
): Promise<Record<ImageKind, string | null>> {
  const urls = await Promise.all(
    IMAGE_KINDS.map(async (kind) => {
      const key = imageKeyOf(imageId, kind, records);
      return key === undefined || !store.presignGet ? null : ((await store.presignGet(key, expiresInSeconds)) ?? null);
    }),
  );
  return Object.fromEntries(IMAGE_KINDS.map((kind, i) => [kind, urls[i]!])) as Record<ImageKind, string | null>;
}

/** The owner's answer for one photo of theirs: its status and its images' URLs. */
export async function statusWithUrls(
  store: ObjectStore,
  imageId: string,
  records: Partial<Record<StageName, StageStatus>>,
  expiresInSeconds: number,
): Promise<ImageStatus> {
  return { ...assembleStatus(imageId, records), image_urls: await presignedImageUrls(store, imageId, records, expiresInSeconds) };
}

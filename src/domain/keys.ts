import { IMAGE_EXTENSIONS, type ImageExtension } from './imageFormats';
import { checkedImageId, IMAGE_ID_PATTERN } from './imageId';
import { everyOwnerLabelKey, ownerOfSegment, ownerSegment, type PhotoRef, parsePhotoRecordKey, photoRecordKey } from './owners';
import { STAGES, type StageName } from './stages';

/*
 * Object keys of the bucket. Every key the pipeline reads is built here or checked here, so no
 * client-supplied string ever becomes a key or a file path (`../` cannot get through). The label
 * index's keys (`labels/…`) are src/domain/labelKeys.ts's.
 */

/** The folders of the stages' images, in stage order (which stage writes which: src/domain/pipeline.ts). */
export const STAGE_FOLDERS = ['original', 'resized', 'grayscale', 'tagged'] as const;
export type StageFolder = (typeof STAGE_FOLDERS)[number];

const KEY_PATTERN = new RegExp(
  `^(${STAGE_FOLDERS.join('|')})/(${IMAGE_ID_PATTERN.source.slice(1, -1)})\\.(${IMAGE_EXTENSIONS.join('|')})$`,
);

export function imageKey(folder: StageFolder, imageId: string, ext: ImageExtension = 'jpg'): string {
  const key = `${folder}/${imageId}.${ext}`;
  if (!KEY_PATTERN.test(key)) throw new Error(`not a valid image key: ${JSON.stringify(key)}`);
  return key;
}

export function isImageKey(key: unknown): key is string {
  return typeof key === 'string' && KEY_PATTERN.test(key);
}

export function parseImageKey(key: string): { folder: StageFolder; imageId: string; ext: ImageExtension } | undefined {
  const m = KEY_PATTERN.exec(key);
  if (!m) return undefined;
  return { folder: m[1] as StageFolder, imageId: m[2]!, ext: m[3] as ImageExtension };
}

/**
 * Where a direct-to-bucket upload lands (a presigned POST from `POST /uploads`): never processed in
 * place. The ingest step (src/ingest/ingestUpload.ts) checks it and copies it to `original/`; the
 * bucket's lifecycle rule expires whatever is left under it after a day. Its key names its owner
 * (`uploads/<owner segment>/<id>.<ext>`, src/domain/owners.ts): the form's policy binds the key,
 * so the bucket takes the photo for that owner only, and ingest learns whose it is from the key.
 * A key without an owner segment is a form signed before owners existed (an ownerless photo).
 */
export const UPLOADS_FOLDER = 'uploads';

const ID = IMAGE_ID_PATTERN.source.slice(1, -1);
const UPLOAD_KEY_PATTERN = new RegExp(`^${UPLOADS_FOLDER}/(?:([a-z2-7]{2,205})/)?(${ID})\\.(${IMAGE_EXTENSIONS.join('|')})$`);

export function uploadKey(imageId: string, ext: ImageExtension, owner?: string): string {
  const key = `${UPLOADS_FOLDER}/${owner === undefined ? '' : `${ownerSegment(owner)}/`}${imageId}.${ext}`;
  if (!UPLOAD_KEY_PATTERN.test(key)) throw new Error(`not a valid upload key: ${JSON.stringify(key)}`);
  return key;
}

/** The image id, extension and owner (when it names one) of an upload key, or undefined for any other string. */
export function parseUploadKey(key: string): { imageId: string; ext: ImageExtension; owner?: string } | undefined {
  const m = UPLOAD_KEY_PATTERN.exec(key);
  if (!m) return undefined;
  if (m[1] === undefined) return { imageId: m[2]!, ext: m[3] as ImageExtension };
  const owner = ownerOfSegment(m[1]);
  return owner === undefined ? undefined : { imageId: m[2]!, ext: m[3] as ImageExtension, owner };
}

/**
 * A deleted photo's tombstone, `deleted/<id>` (empty), written by DELETE /images/{id} before it
 * removes anything: an ingest still at work on the photo sees it after its own writes and takes
 * them back (src/ingest/ingestUpload.ts). Kept 30 days on AWS (the bucket's lifecycle rule): no
 * message of the photo outlives the queues' retention.
 */
export const DELETED_FOLDER = 'deleted';

export function deletedKey(imageId: string): string {
  return `${DELETED_FOLDER}/${checkedImageId(imageId)}`;
}

/**
 * Where each stage's record of one image is: `status/<image_id>/<stage>.json`, one object per
 * stage — but the upload stage's record of a photo with an owner is the owner's index entry
 * (`owners/<owner>/photos/<inverted id>`, src/domain/owners.ts): one object is both, so owners cost
 * no write of their own. recordKey says which.
 */
export const STATUS_FOLDER = 'status';

/** The key of one stage's record of a photo. */
export function recordKey(photo: PhotoRef, stage: StageName): string {
  return stage === 'upload' && photo.owner !== undefined ? photoRecordKey(photo.owner, photo.imageId) : statusKey(photo.imageId, stage);
}

/** The photo and stage of any record's key (a status record or a photo record), or undefined. */
export function parseRecordKey(key: string): { photo: PhotoRef; stage: StageName } | undefined {
  const owned = parsePhotoRecordKey(key);
  if (owned) return { photo: owned, stage: 'upload' };
  const status = parseStatusKey(key);
  return status ? { photo: { imageId: status.imageId }, stage: status.stage } : undefined;
}

export function statusKey(imageId: string, stage: StageName): string {
  return `${STATUS_FOLDER}/${imageId}/${stage}.json`;
}

const STATUS_KEY_PATTERN = new RegExp(`^${STATUS_FOLDER}/(${IMAGE_ID_PATTERN.source.slice(1, -1)})/(${STAGES.join('|')})\\.json$`);

/** The image id and stage of a status record's key, or undefined for any other string. */
export function parseStatusKey(key: string): { imageId: string; stage: StageName } | undefined {
  const m = STATUS_KEY_PATTERN.exec(key);
  return m ? { imageId: m[1]!, stage: m[2] as StageName } : undefined;
}

/**
 * Every key one of `owner`'s photos may have but its record: its images (the original under each
 * extension it could have), its upload under each extension, every stage's status record, its
 * entry under every label. What DELETE /images/{id} removes once the record is gone (a hundred-odd
 * keys: one DeleteObjects request); keys that were never written cost nothing.
 */
export function photoKeysButRecord(owner: string, imageId: string): string[] {
  return [
    ...IMAGE_EXTENSIONS.map((ext) => imageKey('original', imageId, ext)),
    ...STAGE_FOLDERS.filter((folder) => folder !== 'original').map((folder) => imageKey(folder, imageId)),
    ...IMAGE_EXTENSIONS.map((ext) => uploadKey(imageId, ext, owner)),
    ...STAGES.map((stage) => statusKey(imageId, stage)),
    ...everyOwnerLabelKey(owner, imageId),
  ];
}

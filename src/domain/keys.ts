import { IMAGE_EXTENSIONS, type ImageExtension } from './imageFormats';
import { IMAGE_ID_PATTERN } from './imageId';
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
 * bucket's lifecycle rule expires whatever is left under it after a day.
 */
export const UPLOADS_FOLDER = 'uploads';

const UPLOAD_KEY_PATTERN = new RegExp(`^${UPLOADS_FOLDER}/(${IMAGE_ID_PATTERN.source.slice(1, -1)})\\.(${IMAGE_EXTENSIONS.join('|')})$`);

export function uploadKey(imageId: string, ext: ImageExtension): string {
  const key = `${UPLOADS_FOLDER}/${imageId}.${ext}`;
  if (!UPLOAD_KEY_PATTERN.test(key)) throw new Error(`not a valid upload key: ${JSON.stringify(key)}`);
  return key;
}

/** The image id and extension of an upload key, or undefined for any other string. */
export function parseUploadKey(key: string): { imageId: string; ext: ImageExtension } | undefined {
  const m = UPLOAD_KEY_PATTERN.exec(key);
  if (!m) return undefined;
  return { imageId: m[1]!, ext: m[2] as ImageExtension };
}

/** Where each stage's record of one image is: `status/<image_id>/<stage>.json`, one object per stage. */
export const STATUS_FOLDER = 'status';

export function statusKey(imageId: string, stage: StageName): string {
  return `${STATUS_FOLDER}/${imageId}/${stage}.json`;
}

const STATUS_KEY_PATTERN = new RegExp(`^${STATUS_FOLDER}/(${IMAGE_ID_PATTERN.source.slice(1, -1)})/(${STAGES.join('|')})\\.json$`);

/** The image id and stage of a status record's key, or undefined for any other string. */
export function parseStatusKey(key: string): { imageId: string; stage: StageName } | undefined {
  const m = STATUS_KEY_PATTERN.exec(key);
  return m ? { imageId: m[1]!, stage: m[2] as StageName } : undefined;
}

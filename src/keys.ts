import { IMAGE_ID_PATTERN } from './imageId';
import { IMAGE_EXTENSIONS, type ImageExtension } from './ports/imageFormats';
import type { StageName } from './status/stageStatus';

/**
 * Object keys of the bucket. Every key the pipeline reads is built here or checked here, so no
 * client-supplied string ever becomes a key or a file path (`../` cannot get through).
 */
export const STAGE_FOLDERS = ['original', 'resized', 'grayscale', 'tagged'] as const;
export type StageFolder = (typeof STAGE_FOLDERS)[number];

/** The stage whose output each folder holds. */
export const STAGE_OF_FOLDER: Readonly<Record<StageFolder, StageName>> = {
  original: 'upload',
  resized: 'resize',
  grayscale: 'grayscale',
  tagged: 'tag',
};

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

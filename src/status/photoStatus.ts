import { imageKey, type StageFolder } from '../domain/keys';
import type { PhotoRef } from '../domain/owners';
import { PIPELINE } from '../domain/pipeline';
import { QUEUE_STAGES, type QueueStageName } from '../domain/stages';
import type { ObjectStore } from '../ports/ObjectStore';
import { recordOfOutput } from './outputRecord';
import {
  PHOTO_RECORD_VERSION,
  type PhotoRecord,
  readLegacyStatuses,
  readPhotoRecord,
  type StageRecords,
  uploadStatusOf,
} from './stageStatus';

/**
 * Every stage's record of one photo, read for the status API, the pipeline's own waiting and
 * `npm run assign-owner` — from the photo's record, the metadata of the images the stages wrote,
 * and, for a photo uploaded before those, its `status/<id>/<stage>.json` (src/status/stageStatus.ts
 * says which is where). What a read costs (S3 requests):
 *
 * - a tagged photo: its record and a HEAD of its tagged image (2);
 * - on its way, before detect: its record and HEADs of the resized and grayscale images (at most 3);
 * - failed, or its upload not done: its record, and the HEADs of the images that may exist;
 * - uploaded before version 2: its record and its four stages' objects (5, as before).
 */

/** The stages whose done record is their image's, with that image's folder. */
const IMAGE_OF = Object.fromEntries(
  QUEUE_STAGES.flatMap((stage) => {
    const output = (PIPELINE[stage] as { output?: StageFolder }).output;
    return output ? [[stage, output]] : [];
  }),
) as Partial<Record<QueueStageName, StageFolder>>;

/** The image a stage writes (its done record), or undefined for detect, which writes none. */
export function stageImageKey(stage: QueueStageName, imageId: string): string | undefined {
  const folder = IMAGE_OF[stage];
  return folder ? imageKey(folder, imageId) : undefined;
}

/** What was found beside the photo's record. */
export interface FoundRecords {
  /** Done records read from the stages' images (recordOfOutput). */
  outputs?: StageRecords;
  /** `status/<id>/<stage>.json` of a photo in the layout before version 2. */
  legacy?: StageRecords;
}

/**
 * Every stage's record, from the photo's record and what was found beside it; pure. A record the
 * photo's record holds wins over its image's: a stage that fails after writing its image says so in
 * the record, and one that succeeds after a failure rewrites what the record holds of it.
 */
export function stagesOf(record: PhotoRecord | undefined, found: FoundRecords = {}): StageRecords {
  if (!record) return { ...found.legacy };
  const upload = uploadStatusOf(record);
  if (record.v !== PHOTO_RECORD_VERSION) return { ...found.legacy, upload };
  const stages: StageRecords = { ...found.outputs, ...record.stages, upload };
  // Tag draws the detections detect found (its message carries them) and used to record them too:
  // its done record, read from its image, says the same from detect's.
  const { tag, detect } = stages;
  if (tag?.state === 'done' && tag.detections === undefined && detect?.detections !== undefined) {
    stages.tag = { ...tag, detections: detect.detections };
  }
  return stages;
}

/**
 * The stages whose image must be looked at to know whether they are done: those the record says
 * nothing of, that may have run (the stage before is done, or may be). Tag's only once detect's
 * outcome is in the record (detect writes it there before tag's message is sent).
 */
export function imagesToLook(record: PhotoRecord): QueueStageName[] {
  if (record.v !== PHOTO_RECORD_VERSION || record.state !== 'done') return [];
  const held = record.stages ?? {};
  const look: QueueStageName[] = [];
  for (const stage of QUEUE_STAGES) {
    const own = held[stage];
    if (own) {
      if (own.state !== 'done') break;
      continue;
    }
    if (IMAGE_OF[stage] === undefined) break; // detect not recorded yet: nothing after it has run
    look.push(stage);
  }
  return look;
}

/** Every stage's record of a photo whose record is `record` (read by the caller). */
export async function stagesOfRecord(store: ObjectStore, imageId: string, record: PhotoRecord): Promise<StageRecords> {
  if (record.v !== PHOTO_RECORD_VERSION) return stagesOf(record, { legacy: await readLegacyStatuses(store, imageId) });
  const look = imagesToLook(record);
  const heads = await Promise.all(
    look.map(async (stage) => {
      const key = stageImageKey(stage, imageId)!;
      return recordOfOutput(stage, key, await store.head(key));
    }),
  );
  const outputs: StageRecords = {};
  for (const status of heads) if (status) outputs[status.stage] = status;
  return stagesOf(record, { outputs });
}

/**
 * Every stage's record of the photo (absent = pending). A photo with an owner and no record is
 * gone (deleted, or never theirs): nothing. An ownerless one without a record (a message queued
 * before owners whose upload record is missing) may still have the objects of the old layout.
 */
export async function readStageStatuses(store: ObjectStore, photo: PhotoRef): Promise<StageRecords> {
  const record = await readPhotoRecord(store, photo);
  if (record) return stagesOfRecord(store, photo.imageId, record);
  return photo.owner === undefined ? readLegacyStatuses(store, photo.imageId) : {};
}

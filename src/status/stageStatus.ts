import { z } from 'zod';
import { recordKey, statusKey } from '../domain/keys';
import { DetectionSchema } from '../domain/messages';
import type { PhotoRef } from '../domain/owners';
import { QUEUE_STAGES, STAGES, type StageName } from '../domain/stages';
import { ObjectNotFoundError } from '../errors';
import type { ObjectStore } from '../ports/ObjectStore';

/*
 * Where a photo's progress is kept, stage by stage, at the cost of as few object writes as possible
 * (a PUT is S3's dearest request):
 *
 * - The photo's record, written by the upload (POST /upload, or ingest's claim), is the upload
 *   stage's record and its owner's index entry (recordKey, src/domain/keys.ts): it exists exactly
 *   while the photo is its owner's. Since version 2 it also holds, under `stages`, what the other
 *   stages have to say that their images cannot: the detect stage's outcome and detections (detect
 *   writes no image; it rewrites the record once, with the records of resize and grayscale that its
 *   message carried), and a stage's `retrying` or `failed` record with its reason (a failure may
 *   cost a write; success does not).
 * - A done stage that writes an image says so with the image itself: its record travels as the
 *   image's metadata (src/status/outputRecord.ts), read with a HEAD.
 * - Photos uploaded before version 2 (no `v`) kept each stage's record in its own object,
 *   `status/<id>/<stage>.json`; their stages go on that way until they settle, and the status API
 *   reads them (src/status/photoStatus.ts). Ownerless photos without a record do too.
 *
 * So no two stages ever read-modify-write one document on the happy path but detect (once), and a
 * photo costs its four images, its record, detect's rewrite of it and its label entries.
 */

export const StageStatusSchema = z.object({
  stage: z.enum(STAGES),
  /**
   * Written when an attempt ends: done, retrying (a fault; the queue redelivers) or failed. 'running'
   * is written only by ingest's claim (the upload record); older buckets hold other stages' too.
   */
  state: z.enum(['running', 'retrying', 'done', 'failed']),
  /** Absent only from the record of an image written without its metadata (by a release before it kept one). */
  started_at: z.string().optional(),
  finished_at: z.string().optional(),
  duration_ms: z.number().optional(),
  output_key: z.string().optional(),
  detections: z.array(DetectionSchema).optional(),
  attempt: z.number().int().optional(),
  error: z.string().optional(),
  request_id: z.string().optional(),
  /**
   * The upload record's claim (src/ingest/ingestUpload.ts): the queue message that is ingesting
   * the object, so that its own redelivery takes the work over and another delivery does not.
   */
  claimed_by: z.string().optional(),
  /**
   * On a `failed` upload record: the failure was the upload's own (bad input), final; not a fault
   * on the last receive, whose redrive takes the work over while the upload is still there.
   */
  terminal: z.boolean().optional(),
});
export type StageStatus = z.infer<typeof StageStatusSchema>;

/** Each stage's record that is known (absent: pending, or running when the stage before is done). */
export type StageRecords = Partial<Record<StageName, StageStatus>>;

/** The layout of a record that holds the other stages' records (absent: one object per stage). */
export const PHOTO_RECORD_VERSION = 2;

const stagesShape = Object.fromEntries(QUEUE_STAGES.map((stage) => [stage, StageStatusSchema.optional()])) as {
  [S in (typeof QUEUE_STAGES)[number]]: z.ZodOptional<typeof StageStatusSchema>;
};

export const PhotoRecordSchema = StageStatusSchema.extend({
  v: z.literal(PHOTO_RECORD_VERSION).optional(),
  /** The other stages' records the record holds (version 2): detect's, and any stage's failure. */
  stages: z.object(stagesShape).optional(),
});
export type PhotoRecord = z.infer<typeof PhotoRecordSchema>;

/** The JSON body of a record or status object, or undefined when it is no such thing. */
function parseJson<T>(schema: z.ZodType<T>, body: Buffer): T | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

async function getOrUndefined(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  try {
    return (await store.get(key)).body;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The body of `stage`'s record (the photo's record for upload, a stage's status object of the
 * layout before version 2 for the others), or undefined when it is no such record.
 */
export function parseRecord(stage: 'upload', body: Buffer): PhotoRecord | undefined;
export function parseRecord(stage: StageName, body: Buffer): StageStatus | undefined;
export function parseRecord(stage: StageName, body: Buffer): StageStatus | undefined {
  const record = parseJson(stage === 'upload' ? PhotoRecordSchema : StageStatusSchema, body);
  return record?.stage === stage ? record : undefined;
}

/** The photo's record, or undefined when it is absent or unreadable (the photo is not there, as far as anyone can tell). */
export async function readPhotoRecord(store: ObjectStore, photo: PhotoRef): Promise<PhotoRecord | undefined> {
  const body = await getOrUndefined(store, recordKey(photo, 'upload'));
  return body && parseRecord('upload', body);
}

function recordBody(record: PhotoRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

/** Writes the photo's record as it is given (a stage's rewrite keeps what it read and adds its own). */
export async function writePhotoRecord(store: ObjectStore, photo: PhotoRef, record: PhotoRecord): Promise<void> {
  await store.put(recordKey(photo, 'upload'), recordBody(record), { contentType: 'application/json' });
}

/** The upload stage's record as the upload writes it: a new photo's, in the current layout. */
function uploadRecord(status: StageStatus): PhotoRecord {
  if (status.stage !== 'upload') throw new Error(`expected the upload stage's record, got ${status.stage}'s`);
  return { ...status, v: PHOTO_RECORD_VERSION };
}

/**
 * Writes the upload's record (POST /upload, ingest). Nothing else has been recorded of the photo
 * while its upload is under way, so the whole record is the upload's.
 */
export async function writeUploadRecord(store: ObjectStore, photo: PhotoRef, status: StageStatus): Promise<void> {
  await writePhotoRecord(store, photo, uploadRecord(status));
}

/** Ingest's claim: the upload's record, written only if the photo has none (true when this call wrote it). */
export async function claimUploadRecord(store: ObjectStore, photo: PhotoRef, status: StageStatus): Promise<boolean> {
  return store.putIfAbsent(recordKey(photo, 'upload'), recordBody(uploadRecord(status)), { contentType: 'application/json' });
}

/** The upload stage's own record, without the other stages' records it holds. */
export function uploadStatusOf(record: PhotoRecord): StageStatus {
  const { v: _v, stages: _stages, ...upload } = record;
  return upload;
}

/** A stage's `status/<id>/<stage>.json` of the layout before version 2, or undefined when absent or unreadable. */
export async function readLegacyStatus(store: ObjectStore, imageId: string, stage: StageName): Promise<StageStatus | undefined> {
  const body = await getOrUndefined(store, statusKey(imageId, stage));
  return body && parseRecord(stage, body);
}

/** The queue stages' `status/<id>/<stage>.json` that exist (the layout before version 2): one GET each. */
export async function readLegacyStatuses(store: ObjectStore, imageId: string): Promise<StageRecords> {
  const found = await Promise.all(QUEUE_STAGES.map((stage) => readLegacyStatus(store, imageId, stage)));
  const out: StageRecords = {};
  QUEUE_STAGES.forEach((stage, i) => {
    if (found[i]) out[stage] = found[i];
  });
  return out;
}

/** A stage's record in the layout before version 2, for a photo that was uploaded in it. */
export async function writeLegacyStatus(store: ObjectStore, imageId: string, status: StageStatus): Promise<void> {
  await store.put(statusKey(imageId, status.stage), Buffer.from(JSON.stringify(status)), { contentType: 'application/json' });
}

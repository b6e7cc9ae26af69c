import { isImageId } from '../domain/imageId';
import { STAGE_FOLDERS } from '../domain/keys';
import type { Detection } from '../domain/messages';
import { STAGE_OF_FOLDER } from '../domain/pipeline';
import { STAGES, type StageName } from '../domain/stages';
import type { ObjectStore } from '../ports/ObjectStore';
import { readStageStatuses } from '../status/photoStatus';
import type { StageStatus } from '../status/stageStatus';

/**
 * The status API's view of one image, assembled from its stages' records (src/status/photoStatus.ts
 * reads them: the photo's record, its images' metadata, and for a photo from before those, one
 * object per stage); nothing here writes, so no stage ever waits on another's record.
 */
/** The images of one photo: the bucket's stage folders (src/domain/keys.ts). */
export const IMAGE_KINDS = STAGE_FOLDERS;
export type ImageKind = (typeof IMAGE_KINDS)[number];

/** The stage whose output each image kind is. */
export const STAGE_OF_KIND: Readonly<Record<ImageKind, StageName>> = STAGE_OF_FOLDER;

export function isImageKind(value: unknown): value is ImageKind {
  return typeof value === 'string' && (IMAGE_KINDS as readonly string[]).includes(value);
}

export type StageState = 'pending' | StageStatus['state'];
export type OverallState = 'processing' | 'retrying' | 'done' | 'failed';

export interface StageView {
  state: StageState;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  attempt?: number;
  output_key?: string;
  detections?: Detection[];
  /** Why the stage failed (state failed) or why the last attempt did (state retrying). */
  error?: string;
}

export interface ImageStatus {
  image_id: string;
  /** From the UUIDv7 id: when the upload was accepted. */
  uploaded_at: string;
  state: OverallState;
  /** The first stage not done yet; null once the image is tagged. */
  current_stage: StageName | null;
  request_id?: string;
  stages: Record<StageName, StageView>;
  /** What the detect stage found (empty until it is done). */
  detections: Detection[];
  /** Set when a stage failed for good. */
  error?: { stage: StageName; reason: string };
  /** Where to GET each image (the API's route, with the caller's key or token); null until its stage is done. */
  images: Record<ImageKind, string | null>;
  /**
   * The same images as URLs to GET without credentials (an <img>'s): presigned for
   * PRESIGN_EXPIRES_SECONDS, made only once the caller was found to own the photo.
   */
  image_urls?: Record<ImageKind, string | null>;
}

/** The millisecond timestamp in a UUIDv7's first 48 bits. */
export function imageIdTime(imageId: string): Date {
  return new Date(parseInt(imageId.slice(0, 8) + imageId.slice(9, 13), 16));
}

/**
 * The records of `owner`'s photo `imageId`, or undefined when it is not theirs: its upload record
 * is the owner's index entry (src/domain/owners.ts), so a photo of someone else's — or none at all
 * — has none under this owner, and the caller gets exactly the 404 of an unknown id. Nothing of
 * another owner's photo is read.
 */
export async function readOwnedRecords(
  store: ObjectStore,
  owner: string,
  imageId: string,
): Promise<Partial<Record<StageName, StageStatus>> | undefined> {
  if (!isImageId(imageId)) throw new Error(`expected an image id (UUIDv7), got ${JSON.stringify(imageId)}`);
  // Every stage's record that exists for the photo (absent = pending): two requests for a tagged photo.
  const records = await readStageStatuses(store, { imageId, owner });
  return records.upload ? records : undefined;
}

/**
 * A stage without a record of its own: running once the stage before it is done (its message is
 * queued or being processed; stages write a record only when an attempt ends, so a running stage
 * has no start time or attempt to show), else pending.
 */
function stageView(record: StageStatus | undefined, previous: StageView | undefined): StageView {
  if (!record) return { state: previous?.state === 'done' ? 'running' : 'pending' };
  return {
    state: record.state,
    started_at: record.started_at,
    finished_at: record.finished_at,
    duration_ms: record.duration_ms,
    attempt: record.attempt,
    output_key: record.output_key,
    detections: record.detections,
    error: record.state === 'failed' || record.state === 'retrying' ? record.error : undefined,
  };
}

/** Assembles the view from the records; pure, so every state is easy to test. */
export function assembleStatus(imageId: string, records: Partial<Record<StageName, StageStatus>>, baseUrl = ''): ImageStatus {
  const stages = {} as Record<StageName, StageView>;
  STAGES.forEach((s, i) => {
    stages[s] = stageView(records[s], i > 0 ? stages[STAGES[i - 1]!] : undefined);
  });
  const failed = STAGES.find((s) => stages[s].state === 'failed');
  const current = STAGES.find((s) => stages[s].state !== 'done') ?? null;
  const state: OverallState = failed
    ? 'failed'
    : stages.tag.state === 'done'
      ? 'done'
      : STAGES.some((s) => stages[s].state === 'retrying')
        ? 'retrying'
        : 'processing';
  const images = Object.fromEntries(
    IMAGE_KINDS.map((kind) => [kind, stages[STAGE_OF_KIND[kind]].state === 'done' ? `${baseUrl}/images/${imageId}/${kind}` : null]),
  ) as Record<ImageKind, string | null>;
  const requestId = STAGES.map((s) => records[s]?.request_id).find((r) => r !== undefined);
  return {
    image_id: imageId,
    uploaded_at: imageIdTime(imageId).toISOString(),
    state,
    current_stage: state === 'done' ? null : (failed ?? current),
    request_id: requestId,
    stages,
    detections: records.detect?.state === 'done' ? (records.detect.detections ?? []) : (records.tag?.detections ?? []),
    error: failed ? { stage: failed, reason: stages[failed].error ?? 'failed (no reason recorded)' } : undefined,
    images,
  };
}

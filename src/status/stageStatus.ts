import { z } from 'zod';
import { recordKey } from '../domain/keys';
import { DetectionSchema } from '../domain/messages';
import type { PhotoRef } from '../domain/owners';
import { STAGES, type StageName } from '../domain/stages';
import { ObjectNotFoundError } from '../errors';
import type { ObjectStore } from '../ports/ObjectStore';

/*
 * Progress of one image: each stage writes its own small record, `status/<image_id>/<stage>.json`,
 * so no two stages ever read-modify-write one shared document; the status API assembles them. The
 * upload stage's record of a photo with an owner is its owner's index entry (recordKey,
 * src/domain/keys.ts): it exists exactly while the photo is its owner's.
 */

export const StageStatusSchema = z.object({
  stage: z.enum(STAGES),
  /**
   * Written when an attempt ends: done, retrying (a fault; the queue redelivers) or failed. 'running'
   * is no longer written (the status API derives it) but still read: buckets keep older records.
   */
  state: z.enum(['running', 'retrying', 'done', 'failed']),
  started_at: z.string(),
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

export async function writeStageStatus(store: ObjectStore, photo: PhotoRef, status: StageStatus): Promise<void> {
  await store.put(recordKey(photo, status.stage), Buffer.from(JSON.stringify(status)), {
    contentType: 'application/json',
  });
}

/** One stage's record, or undefined when it is absent or unreadable (pending, as far as anyone can tell). */
export async function readStageStatus(store: ObjectStore, photo: PhotoRef, stage: StageName): Promise<StageStatus | undefined> {
  let body: Buffer;
  try {
    ({ body } = await store.get(recordKey(photo, stage)));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = StageStatusSchema.safeParse(json);
  return parsed.success && parsed.data.stage === stage ? parsed.data : undefined;
}

/** Every stage's record that exists for the photo (absent = pending): one GET each. */
export async function readStageStatuses(store: ObjectStore, photo: PhotoRef): Promise<Partial<Record<StageName, StageStatus>>> {
  const records = await Promise.all(STAGES.map((stage) => readStageStatus(store, photo, stage)));
  const out: Partial<Record<StageName, StageStatus>> = {};
  STAGES.forEach((stage, i) => {
    if (records[i]) out[stage] = records[i];
  });
  return out;
}

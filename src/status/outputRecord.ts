import type { QueueStageName } from '../domain/stages';
import type { ObjectHead } from '../ports/ObjectStore';
import type { StageStatus } from './stageStatus';

/**
 * A done stage's record, kept as the metadata of the image it wrote (S3 user metadata, in the same
 * PUT): the image says both that the stage is done and how its attempt went, so success costs no
 * write of its own. Read back with a HEAD of the image.
 */
export type OutputRecord = Pick<StageStatus, 'started_at' | 'finished_at' | 'duration_ms' | 'attempt'>;

const NAMES = { started_at: 'started-at', finished_at: 'finished-at', duration_ms: 'duration-ms', attempt: 'attempt' } as const;

/** The metadata a stage writes its image with. */
export function outputMetadata(record: OutputRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, name] of Object.entries(NAMES)) {
    const value = record[field as keyof OutputRecord];
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * The done record of `stage` whose image `key` has this head, or undefined when the image is not
 * there. Metadata that is not ours (an image written by hand, or before records were kept with
 * images) leaves those fields out: the stage is done all the same.
 */
export function recordOfOutput(stage: QueueStageName, key: string, head: ObjectHead | undefined): StageStatus | undefined {
  if (!head) return undefined;
  const m = head.metadata ?? {};
  const status: StageStatus = { stage, state: 'done', output_key: key };
  const startedAt = m[NAMES.started_at];
  const finishedAt = m[NAMES.finished_at];
  const duration = Number(m[NAMES.duration_ms]);
  const attempt = Number(m[NAMES.attempt]);
  if (startedAt !== undefined && ISO.test(startedAt)) status.started_at = startedAt;
  if (finishedAt !== undefined && ISO.test(finishedAt)) status.finished_at = finishedAt;
  if (m[NAMES.duration_ms] !== undefined && Number.isInteger(duration) && duration >= 0) status.duration_ms = duration;
  if (m[NAMES.attempt] !== undefined && Number.isInteger(attempt) && attempt >= 1) status.attempt = attempt;
  return status;
}

import type { z } from 'zod';
import type { StageFolder } from './keys';
import { DetectMessageSchema, GrayscaleMessageSchema, ResizeMessageSchema, TagMessageSchema } from './messages';
import { type QueueKey, type QueueStageName, STAGES, type StageName } from './stages';

/**
 * The pipeline, stage by stage, in order: the queue each consumes and the message on it, the folder
 * it writes its image to, the queue it sends its message to. The stages' runner (processMessage),
 * the embedded runtime and the dev stack read it; test/unit/domain.test.ts holds serverless.yml to it.
 */
export interface StageVocabulary {
  /** The queue it consumes (src/domain/stages.ts's QUEUES); upload has none of its own. */
  input?: QueueStageName & QueueKey;
  /** The message on that queue, validated where it is consumed. */
  message?: z.ZodType;
  /** The folder of its image (`<folder>/<id>.<ext>`); detect writes none (its detections travel in the message). */
  output?: StageFolder;
  /** The queue of the next stage. */
  next?: QueueStageName & QueueKey;
}

export const PIPELINE = {
  // POST /upload, or an object under uploads/ through ingest_queue (the ingest function).
  upload: { output: 'original', next: 'resize' },
  resize: { input: 'resize', message: ResizeMessageSchema, output: 'resized', next: 'grayscale' },
  grayscale: { input: 'grayscale', message: GrayscaleMessageSchema, output: 'grayscale', next: 'detect' },
  detect: { input: 'detect', message: DetectMessageSchema, next: 'tag' },
  tag: { input: 'tag', message: TagMessageSchema, output: 'tagged' },
} as const satisfies Record<StageName, StageVocabulary>;

type Pipeline = typeof PIPELINE;
/** The message a queue-fed stage consumes. */
export type StageInput<N extends QueueStageName> = z.infer<Pipeline[N]['message']>;
type NextOf<N extends StageName> = Pipeline[N] extends { next: infer Next extends QueueStageName } ? Next : never;
/** The message a stage sends to the next one (never for the last). */
export type StageOutput<N extends QueueStageName> = [NextOf<N>] extends [never] ? never : StageInput<NextOf<N>>;

/** The stage whose image each folder holds. */
export const STAGE_OF_FOLDER = Object.fromEntries(
  STAGES.flatMap((stage) => {
    const { output } = PIPELINE[stage] as StageVocabulary;
    return output ? [[output, stage]] : [];
  }),
) as Readonly<Record<StageFolder, StageName>>;

/** The message schema of a queue-fed stage. */
export function stageMessageSchema<N extends QueueStageName>(stage: N): z.ZodType<StageInput<N>> {
  return PIPELINE[stage].message as unknown as z.ZodType<StageInput<N>>;
}

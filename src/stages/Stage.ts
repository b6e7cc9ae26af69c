import type { Config } from '../config';
import type { Detection } from '../domain/messages';
import type { StageInput, StageOutput } from '../domain/pipeline';
import type { QueueStageName } from '../domain/stages';
import type { ConcurrencyLimit } from '../image/concurrencyLimit';
import type { Logger } from '../logger/createLogger';
import type { StageMetrics } from '../metrics/StageMetrics';
import type { ObjectStore } from '../ports/ObjectStore';

/** Finds objects in encoded image bytes; boxes in the upright image's pixels. */
export type DetectFn = (bytes: Buffer) => Promise<Detection[]>;

/** What a stage may use: nothing of Lambda, nothing of SQS. */
export interface StageContext {
  store: ObjectStore;
  config: Config;
  log: Logger;
  detect: DetectFn;
  /** Per-stage counts and latency (EMF on Lambda, Prometheus embedded); none when absent. */
  metrics?: StageMetrics;
  /**
   * How many whole decoded photos the stages of this app may hold at once (the tag stage's RGB
   * copy: 72 MB at 24 MP; the resize stage's decode of a progressive JPEG, whose coefficients are
   * all held); the app's limiter, shared by all its batches. Unlimited when absent.
   */
  wholePhoto?: ConcurrencyLimit;
  /**
   * The metadata the stage writes its image with: its done record (src/status/outputRecord.ts),
   * which makes the image say that the stage is done, so success costs no write of its own. Given
   * by processMessage; absent when a stage is run on its own.
   */
  outputMetadata?: () => Readonly<Record<string, string>>;
}

export interface StageResult<Out> {
  /** The message for the next queue (none for the last stage). */
  output?: Out;
  /** The object the stage wrote (detect: the copy it read). */
  outputKey: string;
  /** Extra facts for logs and the status record. */
  detail?: { bytes?: number; width?: number; height?: number; detections?: Detection[] };
}

/**
 * One SQS-triggered stage: consume a validated message, write one object, produce the next message.
 * Its queues and its message's schema are the pipeline's (src/domain/pipeline.ts), by its name.
 */
export interface Stage<N extends QueueStageName> {
  name: N;
  run(message: StageInput<N>, ctx: StageContext): Promise<StageResult<StageOutput<N>>>;
}

import type { z } from 'zod';
import type { Config } from '../config';
import type { Detection } from '../contracts';
import type { ConcurrencyLimit } from '../image/concurrencyLimit';
import type { Logger } from '../logger/createLogger';
import type { StageMetrics } from '../metrics/StageMetrics';
import type { ObjectStore } from '../ports/ObjectStore';
import type { StageName } from '../status/stageStatus';

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
   * copy: 72 MB at 24 MP); the app's limiter, shared by all its batches. Unlimited when absent.
   */
  wholePhoto?: ConcurrencyLimit;
}

export interface StageResult<Out> {
  /** The message for the next queue (none for the last stage). */
  output?: Out;
  /** The object the stage wrote. */
  outputKey: string;
  /** Extra facts for logs and the status record. */
  detail?: { bytes?: number; width?: number; height?: number; detections?: Detection[] };
}

/** One SQS-triggered stage: consume a validated message, write one object, produce the next message. */
export interface Stage<In extends { image_id: string; request_id?: string }, Out> {
  name: Exclude<StageName, 'upload'>;
  schema: z.ZodType<In>;
  inputQueue(config: Config): string;
  outputQueue?(config: Config): string;
  run(message: In, ctx: StageContext): Promise<StageResult<Out>>;
}

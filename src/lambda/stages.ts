/**
 * The four SQS stages, for functions/<stage>/handler.ts (which import only the composition root and
 * src/lambda) and the embedded runtime: one list of which stage runs on which queue.
 */
import { detectStage } from '../stages/detectStage';
import { grayscaleStage } from '../stages/grayscaleStage';
import { resizeStage } from '../stages/resizeStage';
import type { Stage } from '../stages/Stage';
import { tagStage } from '../stages/tagStage';

export { detectStage, grayscaleStage, resizeStage, tagStage };
export const SQS_STAGES: readonly Stage<{ image_id: string; request_id?: string }, unknown>[] = [
  resizeStage,
  grayscaleStage,
  detectStage,
  tagStage,
];

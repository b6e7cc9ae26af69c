import { STAGES, type StageName } from '../domain/stages';
import type { StageStatus } from './stageStatus';

export interface ImageOutcome {
  status: 'done' | 'failed' | 'timeout';
  stages: Partial<Record<StageName, StageStatus>>;
  failedStage?: StageName;
  error?: string;
}

/** Tagged, or failed for good at some stage; undefined while the image is still on its way. */
export function settledOutcome(stages: Partial<Record<StageName, StageStatus>>): ImageOutcome | undefined {
  const failed = STAGES.find((s) => stages[s]?.state === 'failed');
  if (failed) return { status: 'failed', stages, failedStage: failed, error: stages[failed]?.error };
  if (stages.tag?.state === 'done') return { status: 'done', stages };
  return undefined;
}

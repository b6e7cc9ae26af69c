import type { ObjectStore } from '../ports/ObjectStore';
import { readStageStatuses, STAGES, type StageName, type StageStatus } from '../status/stageStatus';

export interface ImageOutcome {
  status: 'done' | 'failed' | 'timeout';
  stages: Partial<Record<StageName, StageStatus>>;
  failedStage?: StageName;
  error?: string;
}

/** Polls an image's stage records until the tag stage is done, a stage failed for good, or time runs out. */
export async function waitForImage(
  store: ObjectStore,
  imageId: string,
  options: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {},
): Promise<ImageOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const stages = await readStageStatuses(store, imageId);
    const failed = STAGES.find((s) => stages[s]?.state === 'failed');
    if (failed) return { status: 'failed', stages, failedStage: failed, error: stages[failed]?.error };
    if (stages.tag?.state === 'done') return { status: 'done', stages };
    if (Date.now() > deadline || options.signal?.aborted) return { status: 'timeout', stages };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
}

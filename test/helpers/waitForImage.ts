import { statusKey } from '../../src/domain/keys';
import type { ObjectStore } from '../../src/ports/ObjectStore';
import { type ImageOutcome, settledOutcome } from '../../src/status/settledOutcome';
import { readStageStatuses } from '../../src/status/stageStatus';

export type { ImageOutcome };

/**
 * Polls an image's stage records until the tag stage is done, a stage failed for good, or time
 * runs out. Each poll looks for the tag record only (one cheap call); all five records are read
 * every `fullEvery` polls to notice failures, so waiting on hundreds of images stays cheap.
 */
export async function waitForImage(
  store: ObjectStore,
  imageId: string,
  options: { timeoutMs?: number; pollMs?: number; fullEvery?: number; signal?: AbortSignal } = {},
): Promise<ImageOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const fullEvery = options.fullEvery ?? 5;
  for (let poll = 0; ; poll++) {
    const tagged = await store.exists(statusKey(imageId, 'tag'));
    if (tagged || poll % fullEvery === 0) {
      const settled = settledOutcome(await readStageStatuses(store, imageId));
      if (settled) return settled;
    }
    if (Date.now() > deadline || options.signal?.aborted) return { status: 'timeout', stages: await readStageStatuses(store, imageId) };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
}

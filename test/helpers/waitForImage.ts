import { imageKey } from '../../src/domain/keys';
import { LOCAL_OWNER, type PhotoRef } from '../../src/domain/owners';
import type { ObjectStore } from '../../src/ports/ObjectStore';
import { readStageStatuses } from '../../src/status/photoStatus';
import { type ImageOutcome, settledOutcome } from '../../src/status/settledOutcome';

export type { ImageOutcome };

/**
 * Polls an image's stage records until the tag stage is done, a stage failed for good, or time
 * runs out. Each poll looks for the tagged image only (one cheap call: it is the tag stage's done
 * record); the records are read in full every `fullEvery` polls to notice failures, so waiting on
 * hundreds of images stays cheap.
 * A bare id is a photo of LOCAL_OWNER (AUTH=none's one person, the tests' default).
 */
export async function waitForImage(
  store: ObjectStore,
  image: string | PhotoRef,
  options: { timeoutMs?: number; pollMs?: number; fullEvery?: number; signal?: AbortSignal } = {},
): Promise<ImageOutcome> {
  const photo: PhotoRef = typeof image === 'string' ? { imageId: image, owner: LOCAL_OWNER } : image;
  const { imageId } = photo;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const fullEvery = options.fullEvery ?? 5;
  for (let poll = 0; ; poll++) {
    const tagged = await store.exists(imageKey('tagged', imageId));
    if (tagged || poll % fullEvery === 0) {
      const settled = settledOutcome(await readStageStatuses(store, photo));
      if (settled) return settled;
    }
    if (Date.now() > deadline || options.signal?.aborted) return { status: 'timeout', stages: await readStageStatuses(store, photo) };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
}

import os from 'node:os';

/** Runs `run` when a slot is free; the others wait in order. */
export type ConcurrencyLimit = <T>(run: () => Promise<T>) => Promise<T>;

/**
 * At most `limit` calls of `run` at a time through this limiter; the others wait in order. For the
 * steps that hold a whole decoded photo in memory (72 MB at 24 MP): a batch of ten photos handled
 * at once (Powertools runs a batch's records concurrently, the embedded runtime several batches)
 * would otherwise hold ten, where the CPU can only work on a core's worth at a time. Its state is
 * the limiter's own: the composition root makes one per app (src/app/createApp.ts), never a module.
 */
export function concurrencyLimit(limit: number): ConcurrencyLimit {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit: expected a whole number >= 1, got ${limit}`);
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      release();
    }
  };
}

/** One whole-photo step per core of this machine (or container): the tag stage's decode, paint and encode. */
export function wholePhotoLimit(): ConcurrencyLimit {
  return concurrencyLimit(Math.max(1, os.availableParallelism()));
}

/** No limit: what a stage run on its own (without the app's whole-photo limit) works under. */
export const unlimited: ConcurrencyLimit = (run) => run();

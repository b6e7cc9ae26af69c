import os from 'node:os';

/**
 * At most `limit` calls of `run` at a time in this process; the others wait in order. For the
 * steps that hold a whole decoded photo in memory (72 MB at 24 MP): a batch of ten photos handled
 * at once (Powertools runs a batch's records concurrently, the embedded runtime several batches)
 * would otherwise hold ten, where the CPU can only work on a core's worth at a time.
 */
export function concurrencyLimit(limit: number): <T>(run: () => Promise<T>) => Promise<T> {
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

/** One whole-photo step per core. */
export const wholePhotoSlots = concurrencyLimit(Math.max(1, os.availableParallelism()));

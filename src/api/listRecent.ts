import { parseImageKey } from '../domain/keys';
import type { ObjectStore } from '../ports/ObjectStore';
import { assembleStatus, type ImageStatus, readStatusRecords } from './imageStatus';

/**
 * Recent images, newest first, without listing the whole bucket on every call.
 *
 * Ids are UUIDv7: the first 12 hex digits are the upload's millisecond time, so keys sort by time
 * and every id made in the same 2^24 ms (about 4.7 hours) shares its first 6 hex digits. We list
 * `original/<those 6 digits>` for the current window, then the one before, and so on (S3 answers a
 * prefix listing from its index, so each is one cheap request), and stop as soon as we have
 * `limit` ids. Only when the last RECENT_WINDOWS windows (about 14 hours) hold fewer than `limit`
 * images do we fall back to listing all of `original/` (one key per image). A folder store reads
 * its folder either way; the windows matter for S3.
 */
export const WINDOW_HEX_DIGITS = 6;
export const WINDOW_MS = 2 ** (48 - 4 * WINDOW_HEX_DIGITS);
export const RECENT_WINDOWS = 3;
/** Ids a little ahead of this clock (another host's) still count as recent. */
const CLOCK_SKEW_MS = 60_000;

export const DEFAULT_RECENT_LIMIT = 20;
export const MAX_RECENT_LIMIT = 100;

function idsNewestFirst(keys: string[]): string[] {
  const ids = new Set<string>();
  for (const key of keys) {
    const parsed = parseImageKey(key);
    if (parsed?.folder === 'original') ids.add(parsed.imageId);
  }
  return [...ids].sort().reverse();
}

export async function listRecentIds(store: ObjectStore, limit: number, now: number = Date.now()): Promise<string[]> {
  const found: string[] = [];
  let window = Math.floor((now + CLOCK_SKEW_MS) / WINDOW_MS);
  for (let i = 0; i < RECENT_WINDOWS && window >= 0 && found.length < limit; i += 1, window -= 1) {
    found.push(...idsNewestFirst(await store.list(`original/${window.toString(16).padStart(WINDOW_HEX_DIGITS, '0')}`)));
  }
  if (found.length >= limit) return found.slice(0, limit);
  return idsNewestFirst(await store.list('original/')).slice(0, limit);
}

/**
 * The newest `limit` images with their assembled status (see getImageStatus). An original that no
 * stage record names was never accepted (its upload answered 503) and is left out, as the status
 * API answers 404 for it.
 */
export async function listRecent(
  store: ObjectStore,
  limit: number = DEFAULT_RECENT_LIMIT,
  baseUrl = '',
  now?: number,
): Promise<ImageStatus[]> {
  const ids = await listRecentIds(store, limit, now);
  const listed = await Promise.all(
    ids.map(async (id) => {
      const records = await readStatusRecords(store, id);
      return Object.keys(records).length ? assembleStatus(id, records, baseUrl) : undefined;
    }),
  );
  return listed.filter((status) => status !== undefined);
}

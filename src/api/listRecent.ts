import { imageIdOfIndexKey } from '../domain/labelKeys';
import { photosPrefix } from '../domain/owners';
import type { ObjectStore } from '../ports/ObjectStore';
import { type ImageStatus, readOwnedRecords } from './imageStatus';
import { statusWithUrls } from './imageUrls';

/**
 * One owner's newest photos: a listing of their photo records (`owners/<owner>/photos/<inverted
 * id>`, src/domain/owners.ts), which sort newest first, of `limit` keys — one request to S3, whatever
 * the bucket holds and however many photos others have. Each photo's status is then read as for
 * GET /images/{id}. A photo is listed from its record on: one still being ingested, or refused at
 * ingest (failed, with the reason), is its owner's to see too.
 */
export const DEFAULT_RECENT_LIMIT = 20;
export const MAX_RECENT_LIMIT = 100;

export async function listRecentIds(store: ObjectStore, owner: string, limit: number): Promise<string[]> {
  const prefix = photosPrefix(owner);
  const keys = await store.list(prefix, { maxKeys: limit });
  return keys.map((key) => imageIdOfIndexKey(prefix, key)).filter((id) => id !== undefined);
}

/** The newest `limit` photos of `owner` with their assembled status and image URLs for `presignExpiresSeconds`. */
export async function listRecent(
  store: ObjectStore,
  owner: string,
  options: { limit?: number; presignExpiresSeconds: number },
): Promise<ImageStatus[]> {
  const ids = await listRecentIds(store, owner, options.limit ?? DEFAULT_RECENT_LIMIT);
  const listed = await Promise.all(
    ids.map(async (id) => {
      const records = await readOwnedRecords(store, owner, id);
      // Deleted between the listing and this read: not listed.
      return records && statusWithUrls(store, id, records, options.presignExpiresSeconds);
    }),
  );
  return listed.filter((status) => status !== undefined);
}

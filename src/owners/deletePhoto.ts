import { createHash } from 'node:crypto';
import { deletedKey, photoKeysButRecord, recordKey } from '../domain/keys';
import type { PhotoRef } from '../domain/owners';
import { ObjectNotFoundError } from '../errors';
import type { ObjectStore } from '../ports/ObjectStore';

/**
 * Takes a photo back from the pipeline, on every store alike (DELETE /images/{id}):
 * 1. its tombstone, `deleted/<id>` (when, and a hash of the owner: nothing of the photo, nothing
 *    that names its owner): an ingest still at work on the photo sees it after its own writes and
 *    takes them back (src/ingest/ingestUpload.ts); kept 30 days on AWS (the lifecycle rule);
 * 2. its record, the owner's index entry: from here on it is listed, found and served to nobody,
 *    and a stage still at work on it sees the record gone after its own writes and takes them back
 *    (src/stages/processMessage.ts) — whatever a stage wrote before step 3 is removed by step 3;
 * 3. every other key it may have: images, upload, status records, label entries (one
 *    DeleteObjects request on S3).
 * A failure in step 3 leaves the photo invisible and its tombstone, whose hash is the owner's, so
 * the owner's DELETE again finishes it.
 */
export type DeleteOutcome = 'deleted' | 'finished' | 'unknown';

interface Tombstone {
  /** SHA-256 of the owner: whose DELETE may finish it, without naming them. */
  owner_sha256: string;
  deleted_at: string;
}

const ownerHash = (owner: string) => createHash('sha256').update(owner, 'utf8').digest('hex');

async function tombstoneOwnerHash(store: ObjectStore, imageId: string): Promise<string | undefined> {
  try {
    const { body } = await store.get(deletedKey(imageId));
    const parsed = JSON.parse(body.toString('utf8')) as Partial<Tombstone>;
    return typeof parsed.owner_sha256 === 'string' ? parsed.owner_sha256 : undefined;
  } catch (error) {
    if (error instanceof ObjectNotFoundError || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * `deleted` when the owner's photo was there and is gone now; `finished` when it had been deleted
 * already (by the owner: its tombstone names them) and what was left of it is gone now; `unknown`
 * when the owner has no such photo — never deleted by them, or someone else's.
 */
export async function deletePhoto(store: ObjectStore, photo: Required<PhotoRef>, now = new Date()): Promise<DeleteOutcome> {
  const record = recordKey(photo, 'upload');
  let outcome: DeleteOutcome;
  if (await store.exists(record)) {
    const tombstone: Tombstone = { owner_sha256: ownerHash(photo.owner), deleted_at: now.toISOString() };
    await store.put(deletedKey(photo.imageId), Buffer.from(JSON.stringify(tombstone)), { contentType: 'application/json' });
    await store.delete(record);
    outcome = 'deleted';
  } else if ((await tombstoneOwnerHash(store, photo.imageId)) === ownerHash(photo.owner)) {
    outcome = 'finished';
  } else {
    return 'unknown';
  }
  await store.deleteMany(photoKeysButRecord(photo.owner, photo.imageId));
  return outcome;
}

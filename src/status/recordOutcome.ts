import { deletedKey, recordKey, statusKey } from '../domain/keys';
import type { PhotoRef } from '../domain/owners';
import { PIPELINE, type StageVocabulary } from '../domain/pipeline';
import type { QueueStageName } from '../domain/stages';
import type { ObjectStore } from '../ports/ObjectStore';
import {
  PHOTO_RECORD_VERSION,
  type PhotoRecord,
  readPhotoRecord,
  type StageRecords,
  type StageStatus,
  writeLegacyStatus,
  writePhotoRecord,
} from './stageStatus';

/**
 * How a queue stage records the end of an attempt (src/stages/processMessage.ts calls this after
 * the stage's own writes), where src/status/stageStatus.ts says:
 *
 * - done, with an image: nothing to write — the image carries the record (its metadata) — unless the
 *   photo's record holds a failure of this stage from an earlier attempt, which is rewritten;
 * - done, detect: the photo's record is rewritten once with detect's record (the detections) and
 *   the records of resize and grayscale that its message carried, so a done photo reads in two
 *   requests;
 * - retrying or failed: the photo's record is rewritten with it (a failure may cost a write);
 * - a photo of the layout before version 2, or an ownerless one without a record:
 *   `status/<id>/<stage>.json`, as before.
 *
 * The photo's record is read first: its owner may have deleted it meanwhile (DELETE /images/{id}
 * removes the record before the rest), and then nothing is written and 'deleted' is answered — the
 * caller takes back its own writes. A rewrite could bring a record back that DELETE removed between
 * the read and the write, so after one, the photo's tombstone (`deleted/<id>`, which DELETE writes
 * before anything else) is looked for; found, the record is removed again and 'deleted' answered.
 */
export type Recorded = 'recorded' | 'deleted';

/** What the photo's record becomes, or undefined when it need not change; pure. */
export function recordUpdate(record: PhotoRecord, status: StageStatus, carried: StageRecords = {}): PhotoRecord | undefined {
  const stage = status.stage as QueueStageName;
  const held = record.stages?.[stage];
  const writesImage = (PIPELINE[stage] as StageVocabulary).output !== undefined;
  if (status.state === 'done' && writesImage && (held === undefined || held.state === 'done')) return undefined;
  return { ...record, stages: { ...record.stages, ...carried, [stage]: status } };
}

export async function recordOutcome(store: ObjectStore, photo: PhotoRef, status: StageStatus, carried?: StageRecords): Promise<Recorded> {
  const owned = photo.owner !== undefined;
  const record = await readPhotoRecord(store, photo);
  if (!record && owned) return 'deleted';
  if (!record || record.v !== PHOTO_RECORD_VERSION) {
    await writeLegacyStatus(store, photo.imageId, status);
    // DELETE may have removed the record between the read and this write, after its sweep.
    if (owned && !(await store.exists(recordKey(photo, 'upload')))) {
      await store.delete(statusKey(photo.imageId, status.stage));
      return 'deleted';
    }
    return 'recorded';
  }
  const update = recordUpdate(record, status, carried);
  if (!update) return 'recorded';
  await writePhotoRecord(store, photo, update);
  if (owned && (await store.exists(deletedKey(photo.imageId)))) {
    await store.delete(recordKey(photo, 'upload'));
    return 'deleted';
  }
  return 'recorded';
}

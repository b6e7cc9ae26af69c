import type { PhotoRef } from '../../src/domain/owners';
import type { ObjectStore } from '../../src/ports/ObjectStore';
import { readPhotoRecord, type StageStatus, writePhotoRecord, writeUploadRecord } from '../../src/status/stageStatus';

/**
 * A photo's records as the pipeline keeps them (src/status/stageStatus.ts), for tests that set a
 * photo up without running its stages: the upload's record, then what the record holds of the
 * other stages (detect's outcome, a failure).
 */
export async function recordPhoto(
  store: ObjectStore,
  photo: PhotoRef,
  upload: Omit<StageStatus, 'stage'>,
  ...held: StageStatus[]
): Promise<void> {
  await writeUploadRecord(store, photo, { ...upload, stage: 'upload' });
  for (const status of held) await holdRecord(store, photo, status);
}

/** Writes `status` into the photo's record, as a stage's failure or detect's outcome is (recordOutcome). */
export async function holdRecord(store: ObjectStore, photo: PhotoRef, status: StageStatus): Promise<void> {
  const record = await readPhotoRecord(store, photo);
  if (!record) throw new Error(`no record of ${photo.imageId} to hold ${status.stage}'s`);
  await writePhotoRecord(store, photo, { ...record, stages: { ...record.stages, [status.stage]: status } });
}

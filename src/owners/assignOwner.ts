import { parseStatusKey, STATUS_FOLDER, statusKey } from '../domain/keys';
import { COCO_LABEL_NAMES, isCocoLabel, labelIndexKey } from '../domain/labelKeys';
import type { Detection } from '../domain/messages';
import { writeLabelIndex } from '../labels/writeLabelIndex';
import type { ObjectStore } from '../ports/ObjectStore';
import { stagesOfRecord } from '../status/photoStatus';
import { type ImageOutcome, settledOutcome } from '../status/settledOutcome';
import { readPhotoRecord, type StageRecords, writePhotoRecord } from '../status/stageStatus';

/**
 * Gives the photos stored before owners existed to one owner (`npm run assign-owner`). Such a
 * photo has no owner: its record is `status/<id>/upload.json` and its label entries are
 * `labels/<label>/<inverted id>`, so no caller lists, finds or is served it. For each photo that
 * has settled (tagged, or failed for good: one still in the pipeline is left for a later run, its
 * stages would go on writing the old way), in this order, so that a run cut short is finished by
 * running it again:
 * 1. the owner's record, a copy of the old one as it is (the photo is now theirs and listed; its
 *    other stages' records stay where they are, read from there as before);
 * 2. the owner's label entries, from its detections (it is found by label);
 * 3. the old label entries, then the old record, removed (it is no one else's).
 * The cost: a listing of status/ (a one-off), then a few reads and writes per photo.
 */
export interface AssignOutcome {
  image_id: string;
  outcome: 'assigned' | 'in the pipeline' | 'unreadable';
  labels?: string[];
}

export interface AssignOptions {
  dryRun?: boolean;
  /** Each photo as it is done. */
  onPhoto?: (outcome: AssignOutcome) => void;
}

/** The ids of the photos without an owner: those with an old upload record. */
export async function ownerlessPhotos(store: ObjectStore): Promise<string[]> {
  const keys = await store.list(`${STATUS_FOLDER}/`);
  return keys
    .map(parseStatusKey)
    .filter((k) => k !== undefined && k.stage === 'upload')
    .map((k) => k!.imageId);
}

/** The detections a tagged photo is filed under (none for one that failed). */
function detectionsOf(outcome: ImageOutcome | undefined, records: StageRecords): Detection[] {
  if (outcome?.status !== 'done') return [];
  const detections = records.tag?.detections ?? records.detect?.detections ?? [];
  return detections.filter((d) => isCocoLabel(d.label));
}

export async function assignOwner(store: ObjectStore, owner: string, options: AssignOptions = {}): Promise<AssignOutcome[]> {
  const done: AssignOutcome[] = [];
  const report = (outcome: AssignOutcome) => {
    done.push(outcome);
    options.onPhoto?.(outcome);
  };
  for (const imageId of await ownerlessPhotos(store)) {
    const record = await readPhotoRecord(store, { imageId });
    if (!record) {
      report({ image_id: imageId, outcome: 'unreadable' });
      continue;
    }
    const records = await stagesOfRecord(store, imageId, record);
    const settled = settledOutcome(records);
    if (!settled) {
      report({ image_id: imageId, outcome: 'in the pipeline' });
      continue;
    }
    const detections = detectionsOf(settled, records);
    const labels = [...new Set(detections.map((d) => d.label))];
    if (!options.dryRun) {
      await writePhotoRecord(store, { imageId, owner }, record);
      await writeLabelIndex(store, { imageId, owner }, detections);
      await store.deleteMany(COCO_LABEL_NAMES.map((label) => labelIndexKey(label, imageId)));
      await store.delete(statusKey(imageId, 'upload'));
    }
    report({ image_id: imageId, outcome: 'assigned', labels });
  }
  return done;
}

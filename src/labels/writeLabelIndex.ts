import { isCocoLabel } from '../domain/labelKeys';
import type { Detection } from '../domain/messages';
import { type PhotoRef, photoLabelKey } from '../domain/owners';
import type { ObjectStore } from '../ports/ObjectStore';
import { UnknownLabelError } from './errors';

/**
 * Files one photo under each label it was found with, in its owner's index: an empty object
 * `owners/<owner>/labels/<label>/<inverted id>` per distinct label (src/domain/owners.ts;
 * `labels/<label>/<inverted id>` for a photo without an owner). Called by the tag stage before the
 * tagged image (which says the photo is done), so a done photo is always found by its labels; a
 * crash in between leaves the message on its queue, and the retry writes the same keys again (a
 * photo processed twice is listed once). Every label is checked against the COCO list before
 * anything is written. Returns the labels filed, in the detector's order.
 */
export async function writeLabelIndex(
  store: ObjectStore,
  photo: PhotoRef,
  detections: readonly Detection[],
): Promise<{ labels: string[] }> {
  const labels = [...new Set(detections.map((d) => d.label))];
  const unknown = labels.find((label) => !isCocoLabel(label));
  if (unknown !== undefined) throw new UnknownLabelError(unknown);
  const keys = labelIndexKeys(photo, detections);
  await Promise.all(keys.map((key) => store.put(key, Buffer.alloc(0), { contentType: 'application/octet-stream' })));
  return { labels };
}

/** The index entries writeLabelIndex writes for these detections (an unknown label has none). */
export function labelIndexKeys(photo: PhotoRef, detections: readonly Pick<Detection, 'label'>[]): string[] {
  const labels = [...new Set(detections.map((d) => d.label))];
  return labels.filter(isCocoLabel).map((label) => photoLabelKey(photo, label));
}

import { isCocoLabel, labelIndexKey } from '../domain/labelKeys';
import type { Detection } from '../domain/messages';
import type { ObjectStore } from '../ports/ObjectStore';
import { UnknownLabelError } from './errors';

/**
 * Files one photo under each label it was found with: an empty object `labels/<label>/<inverted
 * id>` per distinct label (src/domain/labelKeys.ts). Called by the tag stage after the tagged image
 * is stored, so the index never names a photo whose tagged image does not exist; a crash in between
 * leaves the message on its queue, and the retry writes the same keys again (a photo processed
 * twice is listed once). Every label is checked against the COCO list before anything is written.
 * Returns the labels filed, in the detector's order.
 */
export async function writeLabelIndex(store: ObjectStore, imageId: string, detections: readonly Detection[]): Promise<string[]> {
  const labels = [...new Set(detections.map((d) => d.label))];
  const unknown = labels.find((label) => !isCocoLabel(label));
  if (unknown !== undefined) throw new UnknownLabelError(unknown);
  await Promise.all(
    labels.map((label) => store.put(labelIndexKey(label, imageId), Buffer.alloc(0), { contentType: 'application/octet-stream' })),
  );
  return labels;
}

import { COCO_LABELS } from './cocoLabels';
import { checkedImageId, isImageId } from './imageId';

/**
 * The label index's keys, defined once: one empty object per label and photo,
 *
 *   labels/<label segment>/<inverted image id>
 *
 * - The label segment is the COCO name with each space written as "_" ("traffic light" is
 *   `traffic_light`): COCO names are lower-case letters and spaces only (checked below), so the
 *   mapping is one to one and every segment is a safe key segment. Both directions go through the
 *   COCO list: a name that is not on it has no segment, and a segment that is not one of theirs has
 *   no name, so no client string ever becomes part of a key.
 * - The inverted id is the image id with every hex digit d written as 15 - d (dashes kept). Image
 *   ids are UUIDv7, which sort by upload time; the inverted ones sort the other way, so a prefix
 *   listing (S3 lists in ascending order only) gives a label's photos newest first, as GET /images
 *   does. The inversion is its own inverse, and an inverted id is never a valid UUIDv7 (its version
 *   digit 7 becomes 8), so the two cannot be mixed up.
 */
export const LABEL_INDEX_FOLDER = 'labels';

/** The detector's labels, in its class order (80 names). */
export const COCO_LABEL_NAMES: readonly string[] = Object.freeze(Object.values(COCO_LABELS));

const NAME_PATTERN = /^[a-z]+( [a-z]+)*$/;
for (const name of COCO_LABEL_NAMES) {
  // The one-to-one mapping below relies on it; a new label list must keep it or change the encoding.
  if (!NAME_PATTERN.test(name))
    throw new Error(`cocoLabels: ${JSON.stringify(name)} is not lower-case words; labelKeys.ts cannot encode it`);
}

const SEGMENT_OF = new Map(COCO_LABEL_NAMES.map((name) => [name, name.replaceAll(' ', '_')]));
const NAME_OF = new Map([...SEGMENT_OF].map(([name, segment]) => [segment, name]));

export function isCocoLabel(value: unknown): value is string {
  return typeof value === 'string' && SEGMENT_OF.has(value);
}

/** The key segment of a COCO label; throws for anything else (callers validate first). */
export function labelSegment(label: string): string {
  const segment = SEGMENT_OF.get(label);
  if (segment === undefined) throw new Error(`not a COCO label: ${JSON.stringify(label)}`);
  return segment;
}

/** The COCO label a key segment stands for, or undefined. */
export function labelOfSegment(segment: string): string | undefined {
  return NAME_OF.get(segment);
}

/** `labels/<segment>/`: where one label's photos are listed. */
export function labelPrefix(label: string): string {
  return `${LABEL_INDEX_FOLDER}/${labelSegment(label)}/`;
}

/** Every hex digit d as 15 - d; dashes stay. Its own inverse. */
export function invertId(id: string): string {
  return id.replace(/[0-9a-f]/g, (d) => (15 - Number.parseInt(d, 16)).toString(16));
}

/** The index entry of one photo under one label. */
export function labelIndexKey(label: string, imageId: string): string {
  return `${labelPrefix(label)}${invertId(checkedImageId(imageId))}`;
}

/** The image id of an index entry under `prefix`, or undefined for a key that is not one. */
export function imageIdOfIndexKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const id = invertId(key.slice(prefix.length));
  return isImageId(id) ? id : undefined;
}

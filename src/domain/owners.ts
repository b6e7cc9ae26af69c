import { checkedImageId, isImageId } from './imageId';
import { COCO_LABEL_NAMES, invertId, labelIndexKey, labelSegment } from './labelKeys';

/**
 * Whose photo it is. Every photo has an owner — who the auth module says the caller was when it was
 * uploaded (a token's `sub`, the name an API key was made for, or `local` with AUTH=none) — and
 * every read route sees only its caller's photos. The owner is part of the keys that index a
 * photo, so listing one owner's photos or searching them by label reads that owner's keys only:
 *
 *   owners/<owner segment>/photos/<inverted id>                  the photo's record (the upload stage's
 *                                                                 status record) and the owner's index entry
 *   owners/<owner segment>/labels/<label segment>/<inverted id>  the owner's label index
 *   uploads/<owner segment>/<id>.<ext>                           a direct upload, until ingest takes it in
 *
 * The owner segment is the owner in base32 (RFC 4648, lower case, no padding): one to one, made of
 * `a-z2-7` only (a safe key segment whatever the owner's characters; the same folder on a
 * file system that ignores case). Ids are inverted as in the label index (labelKeys.ts), so a
 * prefix listing gives the newest photo first.
 *
 * Photos stored before owners existed have none: their record is `status/<id>/upload.json` and
 * their label entries `labels/<label>/<inverted id>`. No caller sees them until
 * `npm run assign-owner` gives them to one (scripts/assign-owner.ts).
 */
export const OWNERS_FOLDER = 'owners';

/** With AUTH=none every caller is this one person; `npm run pipeline`'s photos are theirs too. */
export const LOCAL_OWNER = 'local';

/** At most this many characters: 128 owner bytes are 205 base32 characters, within a file name's 255. */
export const MAX_OWNER_LENGTH = 128;

/** Printable ASCII, no leading or trailing space, 1 to MAX_OWNER_LENGTH characters (OIDC's `sub` is ASCII). */
export const OWNER_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;

/** What an owner must look like, for messages. */
export const OWNER_EXPECTED = `1 to ${MAX_OWNER_LENGTH} printable ASCII characters`;

export function isOwner(value: unknown): value is string {
  return typeof value === 'string' && OWNER_PATTERN.test(value);
}

/** One photo: its id and, since owners exist, its owner (undefined for a photo stored before). */
export interface PhotoRef {
  imageId: string;
  owner?: string;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** The key segment of an owner; throws for anything that is not one (callers validate first). */
export function ownerSegment(owner: string): string {
  if (!isOwner(owner)) throw new Error(`not an owner: ${JSON.stringify(String(owner).slice(0, 40))}`);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of Buffer.from(owner, 'ascii')) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** The owner a key segment stands for, or undefined for a segment that is not one of ours. */
export function ownerOfSegment(segment: string): string | undefined {
  if (!/^[a-z2-7]{2,205}$/.test(segment)) return undefined;
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const c of segment) {
    value = (value << 5) | ALPHABET.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  const owner = Buffer.from(bytes).toString('latin1');
  // Only the one segment ownerSegment makes for it: no stray bits, no second spelling.
  return isOwner(owner) && ownerSegment(owner) === segment ? owner : undefined;
}

/** `owners/<segment>/photos/`: one owner's photo records, newest first. */
export function photosPrefix(owner: string): string {
  return `${OWNERS_FOLDER}/${ownerSegment(owner)}/photos/`;
}

/** The photo's record, which is also its owner's index entry (the upload stage's status record). */
export function photoRecordKey(owner: string, imageId: string): string {
  return `${photosPrefix(owner)}${invertId(checkedImageId(imageId))}`;
}

const PHOTO_KEY_PATTERN = new RegExp(`^${OWNERS_FOLDER}/([a-z2-7]{2,205})/photos/([0-9a-f-]{36})$`);

/** The photo a record key names (owner and id), or undefined for any other string. */
export function parsePhotoRecordKey(key: string): Required<PhotoRef> | undefined {
  const m = PHOTO_KEY_PATTERN.exec(key);
  if (!m) return undefined;
  const owner = ownerOfSegment(m[1]!);
  const imageId = invertId(m[2]!);
  return owner !== undefined && isImageId(imageId) ? { owner, imageId } : undefined;
}

/** `owners/<segment>/labels/<label>/`: where one owner's photos with one label are listed. */
export function ownerLabelPrefix(owner: string, label: string): string {
  return `${OWNERS_FOLDER}/${ownerSegment(owner)}/labels/${labelSegment(label)}/`;
}

/** One owner's index entry of one photo under one label. */
export function ownerLabelKey(owner: string, label: string, imageId: string): string {
  return `${ownerLabelPrefix(owner, label)}${invertId(checkedImageId(imageId))}`;
}

/** Every label entry the photo could have (one per COCO label): what deleting it removes. */
export function everyOwnerLabelKey(owner: string, imageId: string): string[] {
  return COCO_LABEL_NAMES.map((label) => ownerLabelKey(owner, label, imageId));
}

/** A photo's entry under one label: its owner's index, or (ownerless) the index from before owners. */
export function photoLabelKey(photo: PhotoRef, label: string): string {
  return photo.owner === undefined ? labelIndexKey(label, photo.imageId) : ownerLabelKey(photo.owner, label, photo.imageId);
}

/**
 * The owner of a photo: who the auth module says the caller is (a token's `sub`, the name an API
 * key was made for, or `local` with AUTH=none). Every photo records one; every read route sees
 * only its caller's.
 */
export interface Caller {
  owner: string;
}

/** With AUTH=none every caller is this one person (and `npm run pipeline`'s photos are theirs). */
export const LOCAL_OWNER = 'local';

/** At most this many characters: an owner becomes part of object keys (src/domain keys, base32). */
export const MAX_OWNER_LENGTH = 128;

/** Printable ASCII, no leading or trailing space, 1 to MAX_OWNER_LENGTH characters (OIDC's `sub` is ASCII). */
export const OWNER_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;

export function isOwner(value: unknown): value is string {
  return typeof value === 'string' && OWNER_PATTERN.test(value);
}

/** What an owner must look like, for messages. */
export const OWNER_EXPECTED = `1 to ${MAX_OWNER_LENGTH} printable ASCII characters`;

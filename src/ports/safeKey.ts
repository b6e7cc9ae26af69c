import { InvalidInputError } from '../errors';

/**
 * The one check every object key passes before it reaches a store (the S3 adapter and the folder
 * adapter alike), so a key can never name a file outside the store's root and means the same thing
 * on every adapter.
 *
 * A safe key is `segment(/segment)*`, at most 1024 characters, where each segment is 1 to 255
 * characters of `[A-Za-z0-9._-]` and does not start with `.` (so `.`, `..`, hidden files and the
 * folder store's own temporary and sidecar files, which all start with `.`, can never be named).
 * Image keys (`original/<id>.jpg`, see src/domain/keys.ts) and status records (`status/<id>/<stage>.json`)
 * are safe keys.
 */
export class UnsafeKeyError extends InvalidInputError {
  constructor(
    readonly key: unknown,
    reason: string,
  ) {
    super(`unsafe object key ${describe(key)}: ${reason}`);
    this.name = 'UnsafeKeyError';
  }
}

export const MAX_KEY_LENGTH = 1024;
export const MAX_SEGMENT_LENGTH = 255;

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const ALLOWED = /^[A-Za-z0-9._/-]*$/;

function describe(key: unknown): string {
  if (typeof key !== 'string') return typeof key;
  const shown = key.length > 80 ? `${key.slice(0, 80)}…` : key;
  return JSON.stringify(shown);
}

/** Why `key` is not a safe key, or undefined when it is. */
export function unsafeKeyReason(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'expected a string';
  if (key === '') return 'expected a non-empty key';
  if (key.length > MAX_KEY_LENGTH) return `expected at most ${MAX_KEY_LENGTH} characters, got ${key.length}`;
  if (key.includes('\0')) return 'NUL characters are not allowed';
  if (key.includes('\\')) return 'backslashes are not allowed';
  if (key.startsWith('/')) return 'expected a relative key, not one starting with "/"';
  const segments = key.split('/');
  if (segments.includes('..')) return '".." segments are not allowed';
  if (!ALLOWED.test(key)) return 'only the characters A-Z a-z 0-9 . _ - / are allowed';
  for (const segment of segments) {
    if (segment === '') return 'empty segments ("//" or a trailing "/") are not allowed';
    if (segment.length > MAX_SEGMENT_LENGTH) {
      return `expected segments of at most ${MAX_SEGMENT_LENGTH} characters, got ${segment.length}`;
    }
    if (!SEGMENT.test(segment)) return 'segments must not start with "."';
  }
  return undefined;
}

export function isSafeKey(key: unknown): key is string {
  return unsafeKeyReason(key) === undefined;
}

/** Throws UnsafeKeyError (an InvalidInputError: never retried) unless `key` is a safe key. */
export function assertSafeKey(key: unknown): asserts key is string {
  const reason = unsafeKeyReason(key);
  if (reason !== undefined) throw new UnsafeKeyError(key, reason);
}

/**
 * A listing prefix: empty, or a safe key, or a safe key followed by "/", or a partial last
 * segment (`original/0190`), all of which must pass the same character rules.
 */
export function assertSafePrefix(prefix: unknown): asserts prefix is string {
  if (prefix === '') return;
  if (typeof prefix !== 'string') throw new UnsafeKeyError(prefix, 'expected a string prefix');
  const asKey = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const reason = unsafeKeyReason(asKey);
  if (reason !== undefined) throw new UnsafeKeyError(prefix, reason);
}

/**
 * The options of one page of a listing (ObjectStore.list): `startAfter` passes the prefix rules
 * (it is a key, or where one would be), `maxKeys` is a whole number from 1. Throws otherwise.
 */
export function assertListOptions(options: { startAfter?: unknown; maxKeys?: unknown }): void {
  if (options.startAfter !== undefined) assertSafePrefix(options.startAfter);
  const max = options.maxKeys;
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
    throw new InvalidInputError(`list maxKeys: expected a whole number from 1, got ${JSON.stringify(max)}`);
  }
}

/** The limits of a presigned POST (both stores): a content type, a size from 1 byte, an expiry of 1 s to 7 days. */
export function assertPresignPostOptions(options: { contentType?: unknown; size?: unknown; expiresInSeconds?: unknown }): void {
  const { contentType, size, expiresInSeconds } = options;
  if (typeof contentType !== 'string' || !/^[a-z]+\/[a-z0-9.+-]+$/i.test(contentType)) {
    throw new InvalidInputError(`presignPost contentType: expected a media type such as image/jpeg, got ${JSON.stringify(contentType)}`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new InvalidInputError(`presignPost size: expected a whole number of bytes from 1, got ${JSON.stringify(size)}`);
  }
  if (typeof expiresInSeconds !== 'number' || !Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > 604_800) {
    throw new InvalidInputError(
      `presignPost expiresInSeconds: expected a whole number from 1 to 604800, got ${JSON.stringify(expiresInSeconds)}`,
    );
  }
}

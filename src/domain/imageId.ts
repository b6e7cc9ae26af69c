import { randomBytes } from 'node:crypto';

/**
 * Image ids are made by the server, never taken from a client, and are UUIDv7: a 48-bit
 * millisecond timestamp up front, so ids (and therefore keys) sort by upload time, which lets
 * "recent images" be a plain prefix listing.
 */
export const IMAGE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function newImageId(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isImageId(value: unknown): value is string {
  return typeof value === 'string' && IMAGE_ID_PATTERN.test(value);
}

/** The id itself, for building a key from it; a key is never built from anything else. */
export function checkedImageId(value: string): string {
  if (!isImageId(value)) throw new Error(`not an image id: ${JSON.stringify(value)}`);
  return value;
}

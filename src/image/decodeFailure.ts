import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { UnsupportedImageError } from '../errors';
import { type ImageLimits, withTimeBudget } from './decodeLimits';
import { looksLikeJpeg, readJpegStructure } from './jpegStructure';

/**
 * Why bytes that passed the header check could not be decoded, in words that do not depend on
 * libvips's error buffer. That buffer is per thread: when several sharp calls run at once, the
 * text of a failure can be lost and sharp reports "Unknown error" (seen with a truncated JPEG while
 * other photos were being processed). So the reason is derived from the bytes where it can be: a
 * JPEG whose marker structure is cut short or malformed (src/image/jpegStructure.ts), a PNG
 * without its IEND chunk, or a PNG chunk that libpng must refuse (a critical one whose CRC does not
 * match its bytes). Otherwise libvips's own first line is kept, and when it gave none the
 * decode is tried once more, alone (within the same limits), to get one.
 */
export async function decodeFailureReason(bytes: Buffer, cause: unknown, limits?: ImageLimits): Promise<string> {
  const truncated = truncation(bytes);
  if (truncated) return truncated;
  const said = firstLine(cause);
  if (said && said !== 'Unknown error') return said;
  try {
    const again = sharp(bytes, { failOn: 'error', limitInputPixels: limits?.maxInputPixels ?? false });
    await (limits ? withTimeBudget(again, limits) : again).raw().toBuffer();
  } catch (again) {
    const second = firstLine(again);
    if (second && second !== 'Unknown error') return second;
  }
  return 'libvips reported no reason (Unknown error)';
}

const IEND = Buffer.from('IEND', 'latin1');

/** A sentence when the bytes are a JPEG whose structure is broken, or a PNG cut short; else undefined. */
export function truncation(bytes: Buffer): string | undefined {
  if (looksLikeJpeg(bytes)) {
    try {
      readJpegStructure(bytes);
    } catch (error) {
      if (error instanceof UnsupportedImageError) return error.message;
      throw error;
    }
    return undefined;
  }
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) {
    if (bytes.lastIndexOf(IEND) === -1) return `premature end of PNG data: expected an IEND chunk, got ${bytes.length} bytes without one`;
    return damagedPngChunk(bytes);
  }
  return undefined;
}

/** The chunks libpng stops at when their CRC is wrong (an ancillary chunk's is only a warning). */
const CRITICAL_PNG_CHUNKS = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

/** The first critical chunk whose CRC does not match its type and data, said as libpng would stop at it. */
function damagedPngChunk(bytes: Buffer): string | undefined {
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const end = at + 12 + length;
    if (end > bytes.length) return undefined; // cut short: libvips says how
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (CRITICAL_PNG_CHUNKS.has(type)) {
      const stored = bytes.readUInt32BE(end - 4);
      const computed = crc32(bytes.subarray(at + 4, end - 4));
      if (stored !== computed) return `damaged PNG data: the CRC of the ${type} chunk at byte ${at} does not match its bytes`;
    }
    if (type === 'IEND') return undefined;
    at = end;
  }
  return undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error ?? '');
  return message.split('\n')[0]!.trim();
}

import sharp from 'sharp';
import { UnsupportedImageError } from '../errors';
import { type ImageLimits, withTimeBudget } from './decodeLimits';
import { looksLikeJpeg, readJpegStructure } from './jpegStructure';

/**
 * Why bytes that passed the header check could not be decoded, in words that do not depend on
 * libvips's error buffer. That buffer is per thread: when several sharp calls run at once, the
 * text of a failure can be lost and sharp reports "Unknown error" (seen with a truncated JPEG while
 * other photos were being processed). So the reason is derived from the bytes where it can be: a
 * JPEG whose marker structure is cut short or malformed (src/image/jpegStructure.ts), or a PNG
 * without its IEND chunk. Otherwise libvips's own first line is kept, and when it gave none the
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
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.lastIndexOf(IEND) === -1) {
    return `premature end of PNG data: expected an IEND chunk, got ${bytes.length} bytes without one`;
  }
  return undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error ?? '');
  return message.split('\n')[0]!.trim();
}

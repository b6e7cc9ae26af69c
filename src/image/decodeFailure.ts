import sharp from 'sharp';

/**
 * Why bytes that passed the header check could not be decoded, in words that do not depend on
 * libvips's error buffer. That buffer is per thread: when several sharp calls run at once, the
 * text of a failure can be lost and sharp reports "Unknown error" (seen with a truncated JPEG while
 * other photos were being processed). So the reason is derived from the bytes where it can be: a
 * JPEG whose last scan has no end-of-image marker after it, or a PNG without its IEND chunk, was
 * cut short, whatever libvips said. Otherwise libvips's own first line is kept, and when it gave
 * none the decode is tried once more, alone, to get one.
 */
export async function decodeFailureReason(bytes: Buffer, cause: unknown): Promise<string> {
  const truncated = truncation(bytes);
  if (truncated) return truncated;
  const said = firstLine(cause);
  if (said && said !== 'Unknown error') return said;
  try {
    await sharp(bytes, { failOn: 'error', limitInputPixels: false }).raw().toBuffer();
  } catch (again) {
    const second = firstLine(again);
    if (second && second !== 'Unknown error') return second;
  }
  return 'libvips reported no reason (Unknown error)';
}

const SOS = Buffer.from([0xff, 0xda]);
const EOI = Buffer.from([0xff, 0xd9]);
const IEND = Buffer.from('IEND', 'latin1');

/** A sentence when the bytes are a JPEG or PNG that was cut short, else undefined. */
export function truncation(bytes: Buffer): string | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    // Entropy-coded data cannot hold FF D9 (an FF there is stuffed as FF 00), so a whole JPEG has
    // one after its last start-of-scan; an embedded thumbnail's markers all come before that scan.
    const lastScan = bytes.lastIndexOf(SOS);
    if (lastScan === -1)
      return `premature end of JPEG data: expected a start-of-scan marker (FF DA), got ${bytes.length} bytes without one`;
    if (bytes.indexOf(EOI, lastScan + 2) === -1) {
      return `premature end of JPEG data: expected an end-of-image marker (FF D9) after the last scan, got ${bytes.length} bytes without one`;
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

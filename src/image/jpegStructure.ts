import { UnsupportedImageError } from '../errors';

/**
 * A JPEG's marker structure, read by walking its segments (ITU-T T.81 B.1.1) without decoding a
 * pixel: how many scans it has, and whether it is whole. One pass over the bytes: a segment is
 * skipped by its length, a scan's entropy-coded data by searching for the next marker (an FF in
 * it is always stuffed as FF 00 or a restart marker FF D0-D7), so the walk costs O(bytes) whatever
 * the file claims. It stops at the first end-of-image marker: what follows (a phone's appended
 * video, the second picture of an MPO) is not part of this image.
 */
export interface JpegStructure {
  /** Start-of-scan segments (FF DA) before the end of the image. */
  scans: number;
  /** A progressive frame (SOF2, SOF6, SOF10, SOF14): each scan is another pass over the image. */
  progressive: boolean;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;
/** SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isFrameMarker = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
const isProgressiveFrame = (m: number) => m === 0xc2 || m === 0xc6 || m === 0xca || m === 0xce;
const isRestart = (m: number) => m >= 0xd0 && m <= 0xd7;

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

function corrupt(reason: string): UnsupportedImageError {
  return new UnsupportedImageError(reason, { corrupt: true });
}

/** True when the bytes start as a JPEG does (FF D8 FF). */
export function looksLikeJpeg(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === SOI && bytes[2] === 0xff;
}

/**
 * Walks the markers of a JPEG. Throws UnsupportedImageError (`corrupt`) when the structure is cut
 * short or malformed: no start-of-image, a byte where a marker must be, a segment longer than
 * what is left, a scan before the frame header, a second frame, no end-of-image after the last scan.
 */
export function readJpegStructure(bytes: Buffer): JpegStructure {
  const end = bytes.length;
  if (end < 2 || bytes[0] !== 0xff || bytes[1] !== SOI) {
    throw corrupt(
      `malformed JPEG: expected the start-of-image marker FF D8, got ${end < 2 ? `${end} bytes` : `${hex(bytes[0]!)} ${hex(bytes[1]!)}`}`,
    );
  }
  let pos = 2;
  let scans = 0;
  let frame: number | undefined;
  for (;;) {
    if (pos >= end) {
      throw corrupt(
        `truncated JPEG: expected an end-of-image marker (FF D9), got the end of the data after ${scans} scan${scans === 1 ? '' : 's'} (${end} bytes)`,
      );
    }
    if (bytes[pos] !== 0xff) throw corrupt(`malformed JPEG: expected a marker at byte ${pos}, got ${hex(bytes[pos]!)}`);
    const at = pos;
    while (pos < end && bytes[pos] === 0xff) pos++; // fill bytes may precede a marker
    if (pos >= end) continue; // reported as truncated above
    const marker = bytes[pos++]!;
    if (marker === EOI) {
      if (scans === 0) throw corrupt(`malformed JPEG: the end-of-image marker at byte ${at} comes before any scan`);
      return { scans, progressive: frame !== undefined && isProgressiveFrame(frame) };
    }
    if (marker === TEM) continue; // stands alone, no length
    if (marker === SOI || marker === 0x00 || isRestart(marker)) {
      throw corrupt(`malformed JPEG: marker FF ${hex(marker)} at byte ${at} cannot stand between segments`);
    }
    if (pos + 2 > end) throw corrupt(`truncated JPEG: the segment FF ${hex(marker)} at byte ${at} has no length (${end} bytes)`);
    const length = bytes.readUInt16BE(pos);
    if (length < 2) throw corrupt(`malformed JPEG: the segment FF ${hex(marker)} at byte ${at} declares a length of ${length}`);
    const segmentEnd = pos + length;
    if (segmentEnd > end) {
      throw corrupt(`truncated JPEG: the segment FF ${hex(marker)} at byte ${at} declares ${length} bytes, ${end - pos} are left`);
    }
    if (isFrameMarker(marker)) {
      if (frame !== undefined) throw corrupt(`malformed JPEG: a second frame header (FF ${hex(marker)}) at byte ${at}`);
      frame = marker;
    } else if (marker === SOS) {
      if (frame === undefined) throw corrupt(`malformed JPEG: a scan (FF DA) at byte ${at} comes before the frame header`);
      const components = length >= 3 ? bytes[pos + 2]! : 0;
      if (components < 1 || components > 4 || length !== 6 + 2 * components) {
        throw corrupt(`malformed JPEG: the scan header at byte ${at} declares ${components} components in ${length} bytes`);
      }
      scans++;
      pos = skipEntropyCodedData(bytes, segmentEnd);
      continue;
    }
    pos = segmentEnd;
  }
}

/** The position of the marker after a scan's entropy-coded data (its FF), or the end of the bytes. */
function skipEntropyCodedData(bytes: Buffer, from: number): number {
  let pos = from;
  for (;;) {
    const ff = bytes.indexOf(0xff, pos);
    if (ff === -1 || ff + 1 >= bytes.length) return bytes.length;
    const next = bytes[ff + 1]!;
    if (next === 0x00 || isRestart(next)) pos = ff + 2;
    else return ff;
  }
}

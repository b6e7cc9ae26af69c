import type { Sharp } from 'sharp';
import { DEFAULT_IMAGE_TIMEOUT_SECONDS, DEFAULT_MAX_JPEG_SCANS } from '../config';
import { ImageTooLargeError } from '../errors';
import { readJpegStructure } from './jpegStructure';

/**
 * What an image may cost before a pixel of it is decoded, checked from its header and bytes by
 * inspectImage (upload, ingest, and every stage before it decodes):
 * - pixels: MAX_INPUT_PIXELS (decompression bombs; config.ts);
 * - a side no longer than the outputs can hold (JPEG_MAX_SIDE);
 * - a JPEG's scans: MAX_JPEG_SCANS (config.ts says why 32), counted by walking its markers;
 * and, while decoding and encoding, a time budget: IMAGE_TIMEOUT_SECONDS (sharp's `timeout`).
 */
export interface ImageLimits {
  maxInputPixels: number;
  /** The most scans a JPEG may have (MAX_JPEG_SCANS); DEFAULT_MAX_JPEG_SCANS when absent. */
  maxJpegScans?: number;
  /** Seconds one decode or encode may take (IMAGE_TIMEOUT_SECONDS); DEFAULT_IMAGE_TIMEOUT_SECONDS when absent, 0 for none. */
  imageTimeoutSeconds?: number;
}

/**
 * The longest side any output can have: libjpeg's JPEG_MAX_DIMENSION. Every output is a JPEG, and
 * the tagged one is as large as the original (the 25 % copy and its grey copy are smaller), so an
 * image with a longer side could be accepted and then never tagged: libjpeg-turbo refuses to
 * write it ("Maximum supported image dimension is 65500 pixels"; sharp's own check, "Processed
 * image is too large for the JPEG format", stops only at 65,535). No other output implies a limit:
 * the label tiles tag draws are at most a line of text high and never wider than the photo.
 */
export const JPEG_MAX_SIDE = 65_500;

export function assertOutputsFit(width: number, height: number): void {
  if (width > JPEG_MAX_SIDE || height > JPEG_MAX_SIDE) {
    throw new ImageTooLargeError(
      `expected at most ${JPEG_MAX_SIDE} pixels a side (the most a JPEG output can hold), got ${width}x${height}`,
      { limit: 'side' },
    );
  }
}

/**
 * Refuses a JPEG with more scans than `limits.maxJpegScans`, or whose marker structure is cut
 * short or malformed (UnsupportedImageError, `corrupt`). A progressive JPEG's decoder makes a pass
 * over the whole image per scan: 883 scans of a 64 MP image fit in 240 KB and cost 15 s of CPU.
 * The walk costs O(bytes) and decodes nothing; sharp's timeout could not stop that decode anyway
 * (libjpeg reads all of a progressive image's scans in one call, between libvips's checks).
 */
export function assertJpegScans(bytes: Buffer, limits: ImageLimits): void {
  const max = limits.maxJpegScans ?? DEFAULT_MAX_JPEG_SCANS;
  const { scans, progressive } = readJpegStructure(bytes);
  if (scans > max) {
    throw new ImageTooLargeError(
      `expected a JPEG of at most ${max} scans, got ${scans}${progressive ? ' (a progressive JPEG is decoded one pass over the whole image per scan)' : ''}`,
      { limit: 'scans' },
    );
  }
}

/** The decode or encode budget on a sharp pipeline (sharp counts from when libvips starts on it). */
export function withTimeBudget(image: Sharp, limits: ImageLimits): Sharp {
  const seconds = limits.imageTimeoutSeconds ?? DEFAULT_IMAGE_TIMEOUT_SECONDS;
  return seconds > 0 ? image.timeout({ seconds }) : image;
}

/** True for sharp's error when a pipeline ran out of its budget ("timeout: 3% complete"). */
export function isTimeBudgetError(cause: unknown): boolean {
  return cause instanceof Error && /^timeout: \d+% complete/.test(cause.message);
}

/** The budget's error, as bad input: only a hostile image comes near it (see IMAGE_TIMEOUT_SECONDS). */
export function timeBudgetError(what: string, limits: ImageLimits, cause: unknown): ImageTooLargeError {
  const seconds = limits.imageTimeoutSeconds ?? DEFAULT_IMAGE_TIMEOUT_SECONDS;
  const progress = cause instanceof Error ? /(\d+)% complete/.exec(cause.message)?.[1] : undefined;
  return new ImageTooLargeError(
    `${what}: expected the image to be processed within ${seconds} s, stopped at ${progress ?? '?'}% after ${seconds} s`,
    { cause, limit: 'time' },
  );
}

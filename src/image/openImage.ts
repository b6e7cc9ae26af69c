import sharp, { type Metadata, type Sharp } from 'sharp';
import { ACCEPTED_FORMATS, type ImageExtension, imageFormatOfSharp } from '../domain/imageFormats';
import { ImageTooLargeError, UnsupportedImageError } from '../errors';
import { decodeFailureReason } from './decodeFailure';
import { assertJpegScans, assertOutputsFit, type ImageLimits, isTimeBudgetError, timeBudgetError, withTimeBudget } from './decodeLimits';
import { inspectHeif } from './heif/decodeHeif';
import { isSrgbProfile } from './srgbProfile';

/**
 * The one way the pipeline opens image bytes: sharp with the pixel limit (a decompression bomb
 * stops at the header) and the time budget, failing on corrupt data instead of decoding garbage,
 * and the EXIF orientation applied so that every stage works in the upright image's coordinates.
 * inspectImage checks what a decode would cost before any stage decodes (src/image/decodeLimits.ts).
 */
export type { ImageLimits } from './decodeLimits';

export interface ImageInfo {
  format: string;
  ext: ImageExtension;
  contentType: string;
  /** Size of the upright image (EXIF orientation applied). */
  width: number;
  height: number;
  pages: number;
  /** The embedded ICC profile is plain sRGB (or there is none worth converting from): see openImage. */
  srgb: boolean;
  hasAlpha: boolean;
  /** Three channels of 8-bit sRGB: decoding needs no conversion of colour space or depth. */
  rgb8: boolean;
  /** A progressive JPEG: decoded from all of its coefficients at once (3 bytes a pixel at 4:2:0), shrink-on-load or not. */
  progressive: boolean;
}

/**
 * A sharp pipeline on the bytes, upright, limited, failing on corrupt input. Only the first frame
 * of animations. `srgb` (the photo's profile is plain sRGB, isSrgbProfile) skips the conversion
 * from that profile to sRGB, which changes nothing but rounding and costs as much as the decode.
 */
export function openImage(bytes: Buffer, limits: ImageLimits, options: { srgb?: boolean } = {}): Sharp {
  return withTimeBudget(
    sharp(bytes, { limitInputPixels: limits.maxInputPixels, failOn: 'error', ignoreIcc: options.srgb === true }).rotate(),
    limits,
  );
}

/**
 * Reads the header only, and what decoding would cost: format, upright size within the pixel
 * limit and the outputs' largest side, and for a JPEG its marker structure (whole, at most
 * MAX_JPEG_SCANS scans). Cheap: no decode. Throws UnsupportedImageError or ImageTooLargeError.
 */
export async function inspectImage(bytes: Buffer, limits: ImageLimits): Promise<ImageInfo> {
  if (bytes.length === 0) throw new UnsupportedImageError(`expected ${ACCEPTED_FORMATS} image bytes, got an empty body`);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new UnsupportedImageError(`expected ${ACCEPTED_FORMATS} image bytes, got ${describeBytes(bytes)} that sharp cannot read`, {
      cause,
    });
  }
  const format = imageFormatOfSharp(meta.format, meta.compression);
  if (!format) {
    const inside = meta.format === 'heif' && meta.compression ? ` with ${meta.compression} inside` : '';
    throw new UnsupportedImageError(`expected ${ACCEPTED_FORMATS} image, got ${meta.format ?? 'an unknown format'}${inside}`);
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new UnsupportedImageError(`expected an image with a width and height, got ${width}x${height}`);
  assertPixels(width, height, limits);
  assertOutputsFit(width, height);
  if (format.sharp === 'jpeg') assertJpegScans(bytes, limits);
  // sharp reads a HEIC's header but cannot decode it: libheif reads the container too, which also
  // checks the size a grid of tiles assembles to (a crafted file can declare less), and that size
  // must fit the outputs as well.
  if (format.ext === 'heic') {
    const assembled = await inspectHeif(bytes, limits);
    assertOutputsFit(assembled.width, assembled.height);
  }
  return {
    format: format.sharp,
    ext: format.ext,
    contentType: format.contentType,
    width,
    height,
    pages: meta.pages ?? 1,
    srgb: isSrgbProfile(meta.icc),
    hasAlpha: meta.hasAlpha === true,
    rgb8: meta.space === 'srgb' && meta.depth === 'uchar' && meta.channels === 3,
    progressive: meta.isProgressive === true,
  };
}

export function assertPixels(width: number, height: number, limits: ImageLimits): void {
  if (width * height > limits.maxInputPixels) {
    throw new ImageTooLargeError(`expected at most ${limits.maxInputPixels} pixels, got ${width}x${height} = ${width * height}`);
  }
}

/**
 * Turns a sharp failure while decoding (or encoding what was decoded) into one of our errors, so
 * consumers know it is the input's fault: the pixel limit and the time budget are
 * ImageTooLargeError, anything else UnsupportedImageError, its reason derived from the bytes
 * where it can be (decodeFailureReason), so it does not depend on what libvips's per-thread error
 * buffer held at the time.
 */
export async function imageDecodeError(cause: unknown, what: string, bytes: Buffer, limits: ImageLimits): Promise<Error> {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(message)) return new ImageTooLargeError(`${what}: ${message}`, { cause });
  if (isTimeBudgetError(cause)) return timeBudgetError(what, limits, cause);
  return new UnsupportedImageError(`${what}: cannot decode image: ${await decodeFailureReason(bytes, cause, limits)}`, { cause });
}

/** An encoder's failure on what was decoded: the image's own size or content, so bad input too. */
export function imageEncodeError(cause: unknown, what: string, width: number, height: number, limits: ImageLimits): Error {
  if (isTimeBudgetError(cause)) return timeBudgetError(what, limits, cause);
  const message = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0]!.trim();
  return new UnsupportedImageError(`${what}: cannot encode the ${width}x${height} image as JPEG: ${message}`, { cause });
}

function describeBytes(bytes: Buffer): string {
  const head = bytes.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim();
  return `${bytes.length} bytes starting ${head}`;
}

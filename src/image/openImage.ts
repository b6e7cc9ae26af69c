import sharp, { type Metadata, type Sharp } from 'sharp';
import { ACCEPTED_FORMATS, type ImageExtension, imageFormatOfSharp } from '../domain/imageFormats';
import { ImageTooLargeError, UnsupportedImageError } from '../errors';
import { decodeFailureReason } from './decodeFailure';
import { inspectHeif } from './heif/decodeHeif';
import { isSrgbProfile } from './srgbProfile';

/**
 * The one way the pipeline opens image bytes: sharp with the pixel limit (a decompression bomb
 * stops at the header), failing on corrupt data instead of decoding garbage, and the EXIF
 * orientation applied so that every stage works in the upright image's coordinates.
 */
export interface ImageLimits {
  maxInputPixels: number;
}

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
}

/**
 * A sharp pipeline on the bytes, upright, limited, failing on corrupt input. Only the first frame
 * of animations. `srgb` (the photo's profile is plain sRGB, isSrgbProfile) skips the conversion
 * from that profile to sRGB, which changes nothing but rounding and costs as much as the decode.
 */
export function openImage(bytes: Buffer, limits: ImageLimits, options: { srgb?: boolean } = {}): Sharp {
  return sharp(bytes, { limitInputPixels: limits.maxInputPixels, failOn: 'error', ignoreIcc: options.srgb === true }).rotate();
}

/** Reads the header only: format and upright size, checked against the limits. Cheap: no decode. */
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
  // sharp reads a HEIC's header but cannot decode it: libheif reads the container too, which also
  // checks the size a grid of tiles assembles to (a crafted file can declare less).
  if (format.ext === 'heic') await inspectHeif(bytes, limits);
  return {
    format: format.sharp,
    ext: format.ext,
    contentType: format.contentType,
    width,
    height,
    pages: meta.pages ?? 1,
    srgb: isSrgbProfile(meta.icc),
  };
}

export function assertPixels(width: number, height: number, limits: ImageLimits): void {
  if (width * height > limits.maxInputPixels) {
    throw new ImageTooLargeError(`expected at most ${limits.maxInputPixels} pixels, got ${width}x${height} = ${width * height}`);
  }
}

/**
 * Turns a sharp failure into one of our errors, so consumers know it is the input's fault; the
 * reason is derived from the bytes where it can be (decodeFailureReason), so it does not depend
 * on what libvips's per-thread error buffer held at the time.
 */
export async function imageDecodeError(cause: unknown, what: string, bytes: Buffer): Promise<Error> {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(message)) return new ImageTooLargeError(`${what}: ${message}`, { cause });
  return new UnsupportedImageError(`${what}: cannot decode image: ${await decodeFailureReason(bytes, cause)}`, { cause });
}

function describeBytes(bytes: Buffer): string {
  const head = bytes.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim();
  return `${bytes.length} bytes starting ${head}`;
}

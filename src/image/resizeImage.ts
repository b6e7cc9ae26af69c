import { type ConcurrencyLimit, unlimited } from './concurrencyLimit';
import { sharpReadable } from './heif/sharpReadable';
import { type ImageInfo, type ImageLimits, imageDecodeError, inspectImage, openImage } from './openImage';

export interface ResizeResult {
  data: Buffer;
  width: number;
  height: number;
  /** Size of the upright original. */
  originWidth: number;
  originHeight: number;
}

/** The size resizeImage makes of a width x height image: each side scaled, rounded, at least 1 px. */
export function resizedSize(width: number, height: number, scale: number): { width: number; height: number } {
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Scales each side by `scale` (rounded, at least 1 px) and encodes JPEG, upright (EXIF applied),
 * in sRGB (CMYK and 16-bit inputs are converted) with transparency flattened on white.
 * One sharp pipeline, so libvips can shrink JPEGs while decoding them (as vipsthumbnail does).
 * A HEIC has no such shrink: it is decoded whole (src/image/heif), and a progressive JPEG (most
 * photos saved for the web) is decoded from all of its coefficients at once, shrink or not; their
 * decode and resize take a slot of `wholePhoto` (the app's limit on whole photos in memory), as
 * tag's decode does: more of them at once than cores only add memory.
 */
export async function resizeImage(
  bytes: Buffer,
  options: { scale: number; quality: number; limits: ImageLimits; wholePhoto?: ConcurrencyLimit },
): Promise<ResizeResult> {
  const info = await inspectImage(bytes, options.limits);
  if (info.ext !== 'heic' && !info.progressive) return resizeReadable(bytes, bytes, info, options);
  const limit = options.wholePhoto ?? unlimited;
  return limit(async () =>
    resizeReadable(bytes, info.ext === 'heic' ? await sharpReadable(bytes, options.limits, true) : bytes, info, options),
  );
}

async function resizeReadable(
  bytes: Buffer,
  readable: Buffer,
  info: ImageInfo,
  options: { scale: number; quality: number; limits: ImageLimits },
): Promise<ResizeResult> {
  const { width, height } = resizedSize(info.width, info.height, options.scale);
  try {
    const out = await openImage(readable, options.limits, { srgb: info.srgb })
      .resize(width, height, { fit: 'fill' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      // Standard Huffman tables, as vipsthumbnail and libjpeg write by default: optimised ones
      // save a few hundred bytes on a thumbnail and cost ~5 % of the stage's time.
      .jpeg({ quality: options.quality, optimiseCoding: false })
      .toBuffer({ resolveWithObject: true });
    return { data: out.data, width: out.info.width, height: out.info.height, originWidth: info.width, originHeight: info.height };
  } catch (cause) {
    throw await imageDecodeError(cause, 'resize', bytes, options.limits);
  }
}

import { sharpReadable } from './heif/sharpReadable';
import { type ImageLimits, imageDecodeError, openImage } from './openImage';

/** A single-channel (b-w) JPEG of the image: a third of the bytes of a three-channel grey copy. */
export async function grayscaleImage(
  bytes: Buffer,
  options: { quality: number; limits: ImageLimits },
): Promise<{ data: Buffer; width: number; height: number }> {
  const readable = await sharpReadable(bytes, options.limits);
  try {
    const out = await openImage(readable, options.limits)
      .flatten({ background: '#ffffff' })
      .toColourspace('b-w')
      .jpeg({ quality: options.quality, optimiseCoding: false }) // as resizeImage: standard tables
      .toBuffer({ resolveWithObject: true });
    return { data: out.data, width: out.info.width, height: out.info.height };
  } catch (cause) {
    throw await imageDecodeError(cause, 'grayscale', bytes);
  }
}

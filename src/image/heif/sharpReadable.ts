import sharp from 'sharp';
import { decodeHeif, type HeifLimits } from './decodeHeif';
import { tiffHeader } from './uncompressedTiff';

/**
 * Whether the bytes are HEIC: a HEIF container (an ISO BMFF `ftyp` box first) whose primary image
 * is HEVC. sharp's libvips reads such a container's header (size, orientation, colour profile) but
 * has no HEVC decoder; AV1 inside the same container (AVIF) it decodes itself.
 */
export async function isHeic(bytes: Uint8Array): Promise<boolean> {
  if (bytes.length < 12 || Buffer.from(bytes.buffer, bytes.byteOffset + 4, 4).toString('latin1') !== 'ftyp') return false;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    return meta.format === 'heif' && meta.compression === 'hevc';
  } catch {
    return false; // not a container sharp can read: whatever decodes it next says why
  }
}

/**
 * Bytes that sharp decodes: the bytes themselves, or for a HEIC its primary image decoded by libheif
 * (decodeHeif), upright, as an uncompressed TIFF with its colour profile (`heic`: whether the bytes
 * are HEIC, when the caller knows already). Everything sharp does after that (resize, colour
 * conversion to sRGB, flattening, JPEG) is as for a JPEG; the TIFF has no EXIF, so nothing rotates
 * it twice.
 */
export async function sharpReadable(bytes: Buffer, limits: HeifLimits, heic?: boolean): Promise<Buffer> {
  if (!(heic ?? (await isHeic(bytes)))) return bytes;
  // The pixels are copied out of the decoder once, straight behind the TIFF header.
  let file: Buffer | undefined;
  await decodeHeif(bytes, limits, {
    into: (image) => {
      const head = tiffHeader(image);
      file = Buffer.allocUnsafe(head.length + image.width * image.height * image.channels * (image.bits / 8));
      head.copy(file);
      return { buffer: file, offset: head.length };
    },
  });
  return file!;
}

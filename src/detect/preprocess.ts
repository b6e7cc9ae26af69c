import sharp from 'sharp';
import { ImageTooLargeError, UnsupportedImageError } from '../errors';
import { ACCEPTED_FORMATS } from '../ports/imageFormats';

/** The model's input side: images are resized to MODEL_SIZE x MODEL_SIZE. */
export const MODEL_SIZE = 300;

/** Raw 8-bit pixels, rows top to bottom, channels interleaved. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 = grayscale, 3 = RGB, 4 = RGBA. */
  channels: 1 | 3 | 4;
}

/** 40 megapixels, the pipeline's default (config MAX_INPUT_PIXELS). */
export const DEFAULT_LIMIT_INPUT_PIXELS = 40_000_000;

/**
 * Decodes an encoded image (JPEG, PNG, WebP, GIF, TIFF, AVIF...) to raw 8-bit pixels of the
 * upright image: EXIF orientation applied, alpha flattened on white, 3 channels (sharp outputs a
 * single-channel JPEG as sRGB, i.e. gray replicated to R, G, B; 1 channel is accepted too).
 */
export async function decodeImage(input: Buffer, limitInputPixels = DEFAULT_LIMIT_INPUT_PIXELS): Promise<RawImage> {
  if (input.length === 0) throw new UnsupportedImageError('cannot decode image: expected JPEG, PNG or WebP bytes, got an empty buffer');
  try {
    const { data, info } = await sharp(input, { limitInputPixels })
      .rotate()
      .flatten({ background: '#ffffff' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) {
      throw new UnsupportedImageError(`cannot decode image: expected 1 or 3 channels after decoding, got ${info.channels}`);
    }
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    if (err instanceof UnsupportedImageError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(message)) {
      throw new ImageTooLargeError(`image is larger than the limit of ${limitInputPixels} pixels (${message})`, { cause: err });
    }
    const head = input.subarray(0, 8).toString('hex');
    throw new UnsupportedImageError(
      `cannot decode image: expected ${ACCEPTED_FORMATS} bytes, got ${input.length} bytes starting ${head} (${message})`,
      { cause: err },
    );
  }
}

/** Checks raw pixels: sizes, channel count, buffer length, pixel limit. */
export function assertRawImage(image: RawImage, limitInputPixels = DEFAULT_LIMIT_INPUT_PIXELS): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new UnsupportedImageError(`raw image: expected positive whole width and height, got ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new UnsupportedImageError(`raw image: expected 1, 3 or 4 channels, got ${String(channels)}`);
  }
  if (width * height > limitInputPixels) {
    throw new ImageTooLargeError(`image is larger than the limit of ${limitInputPixels} pixels (${width}x${height})`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new UnsupportedImageError(
      `raw image: expected ${width * height * channels} bytes (${width}x${height}x${channels}), got ${data?.length ?? 'no data'}`,
    );
  }
}

/** RGBA to RGB by compositing on white, the same as sharp's flatten({ background: white }). */
export function flattenOnWhite(image: RawImage): RawImage {
  if (image.channels !== 4) return image;
  const n = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(n * 3);
  for (let i = 0, s = 0, d = 0; i < n; i++, s += 4, d += 3) {
    const a = src[s + 3]! / 255;
    const w = 255 * (1 - a);
    out[d] = Math.round(src[s]! * a + w);
    out[d + 1] = Math.round(src[s + 1]! * a + w);
    out[d + 2] = Math.round(src[s + 2]! * a + w);
  }
  return { data: out, width: image.width, height: image.height, channels: 3 };
}

/**
 * Bilinear resize with exactly TensorFlow's ResizeBilinear semantics for align_corners=false,
 * half_pixel_centers=false (what the reference graph does): output pixel (y, x) samples the
 * source at (y * inH / outH, x * inW / outW); the neighbours are floor and ceil of that, the ceil
 * clamped to the last row/column, blended linearly, first along x then along y.
 * Reads 1-channel (gray, replicated to RGB) or 3-channel input, writes RGB float32 NHWC values
 * 0..255 into `out` (allocated when not given).
 */
export function resizeBilinear(
  image: RawImage,
  outHeight = MODEL_SIZE,
  outWidth = MODEL_SIZE,
  out: Float32Array = new Float32Array(outHeight * outWidth * 3),
): Float32Array {
  const src = flattenOnWhite(image);
  const { data, width: inW, height: inH, channels: ch } = src;
  if (out.length !== outHeight * outWidth * 3) {
    throw new RangeError(`resizeBilinear: output must hold ${outHeight * outWidth * 3} floats, got ${out.length}`);
  }
  // Column neighbours and weights, once per output column.
  const xScale = inW / outWidth;
  const xLeft = new Int32Array(outWidth);
  const xRight = new Int32Array(outWidth);
  const xFrac = new Float64Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const sx = x * xScale;
    const lo = Math.floor(sx);
    xLeft[x] = lo * ch;
    xRight[x] = Math.min(Math.ceil(sx), inW - 1) * ch;
    xFrac[x] = sx - lo;
  }
  const yScale = inH / outHeight;
  const rowStride = inW * ch;
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const sy = y * yScale;
    const top = Math.floor(sy);
    const topRow = top * rowStride;
    const bottomRow = Math.min(Math.ceil(sy), inH - 1) * rowStride;
    const yf = sy - top;
    for (let x = 0; x < outWidth; x++) {
      const l = xLeft[x]!;
      const r = xRight[x]!;
      const xf = xFrac[x]!;
      if (ch === 3) {
        for (let c = 0; c < 3; c++) {
          const tl = data[topRow + l + c]!;
          const t = tl + (data[topRow + r + c]! - tl) * xf;
          const bl = data[bottomRow + l + c]!;
          const b = bl + (data[bottomRow + r + c]! - bl) * xf;
          out[o++] = t + (b - t) * yf;
        }
      } else {
        const tl = data[topRow + l]!;
        const t = tl + (data[topRow + r]! - tl) * xf;
        const bl = data[bottomRow + l]!;
        const b = bl + (data[bottomRow + r]! - bl) * xf;
        const v = t + (b - t) * yf;
        out[o++] = v;
        out[o++] = v;
        out[o++] = v;
      }
    }
  }
  return out;
}

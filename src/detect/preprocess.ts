import sharp from 'sharp';
import { ACCEPTED_FORMATS } from '../domain/imageFormats';
import { ImageTooLargeError, UnsupportedImageError } from '../errors';
import { decodeFailureReason } from '../image/decodeFailure';
import { type ImageLimits, isTimeBudgetError, timeBudgetError, withTimeBudget } from '../image/decodeLimits';
import { sharpReadable } from '../image/heif/sharpReadable';
import { isSrgbProfile } from '../image/srgbProfile';

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

/** 2^26 = 67,108,864 pixels (64 MP), the pipeline's default (config MAX_INPUT_PIXELS). */
export const DEFAULT_LIMIT_INPUT_PIXELS = 2 ** 26;

/**
 * Decodes an encoded image (JPEG, PNG, WebP, GIF, TIFF, AVIF...) to raw 8-bit pixels of the
 * upright image at full size: EXIF orientation applied, alpha flattened on white, 3 channels (sharp
 * outputs a single-channel JPEG as sRGB, i.e. gray replicated to R, G, B; 1 channel is accepted too).
 */
export async function decodeImage(
  input: Buffer,
  limitInputPixels = DEFAULT_LIMIT_INPUT_PIXELS,
  imageTimeoutSeconds?: number,
): Promise<RawImage> {
  return (await decode(input, { maxInputPixels: limitInputPixels, imageTimeoutSeconds }, () => undefined)).image;
}

/** Pixels for the model, and the size of the upright photo they were decoded from (the boxes' frame). */
export interface ModelImage {
  image: RawImage;
  /** Upright size of the photo itself. */
  width: number;
  height: number;
  /** 1 (decoded at full size) or the block shrink libvips decoded it at (2, 4, 8). */
  shrink: number;
}

/**
 * How much larger than the model input the reduced decode stays on each side. The accuracy contract
 * was established on photos of 424-773 px, i.e. TF's bilinear resize from 1.4-2.6 times the model
 * input; a reduced decode to about that scale keeps the model's view alike. Decoding down to just
 * the model size (factor 1) blurs what bilinear sampling keeps sharp: measured on 12 and 24 MP
 * upscales of the fixtures, factor 1 moved scores by up to 0.27 and lost objects; factor 2 kept every
 * object, closer to the reference than the full-size decode does (test/integration/detect-reduced-decode.test.ts).
 */
export const DECODE_MARGIN = 2;

/**
 * The block shrink the detector may decode a width x height photo at: the largest of 8, 4, 2 that
 * still leaves DECODE_MARGIN x MODEL_SIZE pixels on both sides (see decodeForModel), else 1.
 */
export function decodeShrink(width: number, height: number): number {
  const least = DECODE_MARGIN * MODEL_SIZE;
  return [8, 4, 2].find((s) => Math.floor(width / (s + 1)) >= least && Math.floor(height / (s + 1)) >= least) ?? 1;
}

/**
 * Decodes no more pixels than the model needs. A photo under about 1800 px on its short side (the
 * fixtures, 0.3-0.5 MP) is decoded at full size, so the model sees exactly what the reference
 * graph's TF ResizeBilinear makes of it. A larger one is decoded by libvips at 1/2, 1/4 or 1/8
 * scale (JPEG shrink-on-load: the DCT is scaled down, only the entropy decode stays whole; other
 * formats shrink after decoding, still in libvips) and reduced a little further, to
 * floor(side / (shrink + 1)), so that sharp keeps that block shrink (it halves a shrink equal to the
 * whole factor); the TF-exact bilinear resize to 300x300 is then done from that image of at least
 * 600 px a side. "The same input" at reduced scale means the same picture at the scale the model was
 * checked at, not the same point samples: bilinear sampling of 2 x 2 pixels every 13-20 pixels of a
 * 12-24 MP photo aliases its noise and fine texture, which moved scores more than this does. The
 * sampling grids differ by under half a pixel of the reduced image (under 0.1 % of a side).
 * Boxes are normalised, so they map to the photo's own size.
 */
export async function decodeForModel(
  input: Buffer,
  limitInputPixels = DEFAULT_LIMIT_INPUT_PIXELS,
  imageTimeoutSeconds?: number,
): Promise<ModelImage> {
  return decode(input, { maxInputPixels: limitInputPixels, imageTimeoutSeconds }, (width, height) => {
    const shrink = decodeShrink(width, height);
    return shrink > 1 ? { shrink, width: Math.floor(width / (shrink + 1)), height: Math.floor(height / (shrink + 1)) } : undefined;
  });
}

async function decode(
  input: Buffer,
  limits: ImageLimits,
  reduceTo: (width: number, height: number) => { shrink: number; width: number; height: number } | undefined,
): Promise<ModelImage> {
  if (input.length === 0) throw new UnsupportedImageError('cannot decode image: expected JPEG, PNG or WebP bytes, got an empty buffer');
  const limitInputPixels = limits.maxInputPixels;
  const bytes = await sharpReadable(input, limits);
  try {
    const meta = await sharp(bytes, { limitInputPixels }).metadata();
    const width = meta.autoOrient?.width ?? meta.width ?? 0;
    const height = meta.autoOrient?.height ?? meta.height ?? 0;
    const reduced = reduceTo(width, height);
    // A plain sRGB profile is not converted from (it changes rounding only, at the cost of a decode).
    let pipeline = withTimeBudget(sharp(bytes, { limitInputPixels, ignoreIcc: isSrgbProfile(meta.icc) }).rotate(), limits);
    if (reduced) pipeline = pipeline.resize(reduced.width, reduced.height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true });
    if (meta.hasAlpha) pipeline = pipeline.flatten({ background: '#ffffff' });
    // 16-bit samples (a 16-bit PNG, a 10-bit HEIC) reduced to 8 by a colour conversion, which rounds;
    // raw output alone would keep only their top 8 bits, a little darker than the picture.
    if (meta.depth !== 'uchar') pipeline = pipeline.toColourspace(meta.channels !== undefined && meta.channels <= 2 ? 'b-w' : 'srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) {
      throw new UnsupportedImageError(`cannot decode image: expected 1 or 3 channels after decoding, got ${info.channels}`);
    }
    return {
      image: { data, width: info.width, height: info.height, channels: info.channels },
      width: reduced ? width : info.width,
      height: reduced ? height : info.height,
      shrink: reduced?.shrink ?? 1,
    };
  } catch (err) {
    if (err instanceof UnsupportedImageError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(message)) {
      throw new ImageTooLargeError(`image is larger than the limit of ${limitInputPixels} pixels (${message})`, { cause: err });
    }
    if (isTimeBudgetError(err)) throw timeBudgetError('detect', limits, err);
    const head = input.subarray(0, 8).toString('hex');
    // The reason from the bytes where it can be: libvips's error text is per thread and can be lost.
    const reason = await decodeFailureReason(input, err, limits);
    throw new UnsupportedImageError(
      `cannot decode image: expected ${ACCEPTED_FORMATS} bytes, got ${input.length} bytes starting ${head} (${reason})`,
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

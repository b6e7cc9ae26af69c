import { createCanvas } from '@napi-rs/canvas';
import sharp from 'sharp';
import type { Detection } from '../domain/messages';
import { RuntimeLoadError, UnsupportedImageError } from '../errors';
import { withTimeBudget } from './decodeLimits';
import { sharpReadable } from './heif/sharpReadable';
import { ensureLabelFont } from './labelFont';
import { type ImageLimits, imageDecodeError, imageEncodeError, inspectImage, openImage } from './openImage';
import { releaseNow } from './releaseNow';

/** Colours that read well on photos; one per label, stable across images. */
const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#ffe119',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#46f0f0',
  '#f032e6',
  '#bcf60c',
  '#fabebe',
  '#008080',
  '#9a6324',
];

export function colourFor(label: string): string {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

/** Dark text on light colours, white on dark ones. */
function textColourOn(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const luma = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 0xff) + 0.114 * (n & 0xff);
  return luma > 150 ? '#000000' : '#ffffff';
}

/** Sizes scale with the image so labels stay legible on a 200 px thumbnail and a 6000 px photo. */
export function labelMetrics(width: number, height: number): { fontPx: number; lineWidth: number; pad: number } {
  const short = Math.min(width, height);
  const fontPx = Math.round(Math.min(64, Math.max(11, short * 0.028)));
  return { fontPx, lineWidth: Math.max(2, Math.round(short / 250)), pad: Math.max(2, Math.round(fontPx * 0.25)) };
}

/** A rectangle in whole pixels, clipped to the image; undefined when nothing of it is left. */
function clip(x: number, y: number, w: number, h: number, width: number, height: number) {
  const left = Math.max(0, Math.round(x));
  const top = Math.max(0, Math.round(y));
  const right = Math.min(width, Math.round(x + w));
  const bottom = Math.min(height, Math.round(y + h));
  return right > left && bottom > top ? { left, top, width: right - left, height: bottom - top } : undefined;
}

/** One thing to paint, in drawing order: a solid rectangle, or a label tile of RGBA pixels. */
export type Paint =
  | { kind: 'rect'; left: number; top: number; width: number; height: number; rgb: [number, number, number] }
  | { kind: 'tile'; left: number; top: number; width: number; height: number; rgba: Uint8ClampedArray };

function rgbOf(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [n >> 16, (n >> 8) & 0xff, n & 0xff];
}

/**
 * What to paint for the detections, in drawing order (low scores first, so the most confident
 * labels end up on top): each box is four solid strips of the line width inside its edges, each
 * label a small tile drawn with @napi-rs/canvas ("label 0.87" on the label's colour) above the box
 * when there is room, else inside its top edge, never off the image. Only these tiles are drawn by
 * the canvas; the photo itself is never handed to it.
 */
export function detectionPaints(detections: readonly Detection[], width: number, height: number, fontPath?: string): Paint[] {
  const family = ensureLabelFont(fontPath);
  const { fontPx, lineWidth: lw, pad } = labelMetrics(width, height);
  const font = `${fontPx}px ${family}`;
  const measure = createCanvas(1, 1).getContext('2d');
  measure.font = font;
  const paints: Paint[] = [];
  for (const d of [...detections].sort((a, b) => a.score - b.score)) {
    const colour = colourFor(d.label);
    const rgb = rgbOf(colour);
    const { x, y, width: w, height: h } = d.box;
    const sw = Math.min(lw, w);
    const sh = Math.min(lw, h);
    for (const strip of [
      clip(x, y, w, sh, width, height), // top
      clip(x, y + h - sh, w, sh, width, height), // bottom
      clip(x, y, sw, h, width, height), // left
      clip(x + w - sw, y, sw, h, width, height), // right
    ]) {
      if (strip) paints.push({ kind: 'rect', ...strip, rgb });
    }

    const text = `${d.label} ${d.score.toFixed(2)}`;
    const tw = Math.max(1, Math.min(width, Math.ceil(measure.measureText(text).width) + 2 * pad));
    const th = Math.max(1, Math.min(height, fontPx + 2 * pad));
    const lx = Math.round(Math.min(Math.max(0, x), Math.max(0, width - tw)));
    const ly = Math.round(y - th >= 0 ? y - th : Math.min(y, Math.max(0, height - th)));
    const canvas = createCanvas(tw, th);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, tw, th);
    ctx.font = font;
    ctx.textBaseline = 'top';
    ctx.fillStyle = textColourOn(colour);
    ctx.fillText(text, pad, pad);
    // Opaque everywhere (the label's background), so the RGB values are the colours as drawn.
    const rgba = ctx.getImageData(0, 0, tw, th).data;
    paints.push({ kind: 'tile', left: Math.min(lx, width - tw), top: Math.min(ly, height - th), width: tw, height: th, rgba });
  }
  return paints;
}

/** Paints onto raw RGB pixels (3 bytes a pixel, rows top to bottom), in place. */
export function paintRgb(pixels: Uint8Array, width: number, paints: readonly Paint[]): void {
  for (const p of paints) {
    for (let row = 0; row < p.height; row++) {
      let o = ((p.top + row) * width + p.left) * 3;
      if (p.kind === 'rect') {
        const [r, g, b] = p.rgb;
        for (let col = 0; col < p.width; col++, o += 3) {
          pixels[o] = r;
          pixels[o + 1] = g;
          pixels[o + 2] = b;
        }
      } else {
        let i = row * p.width * 4;
        for (let col = 0; col < p.width; col++, o += 3, i += 4) {
          pixels[o] = p.rgba[i]!;
          pixels[o + 1] = p.rgba[i + 1]!;
          pixels[o + 2] = p.rgba[i + 2]!;
        }
      }
    }
  }
}

/**
 * Draws each detection's box and "label 0.87" on the upright original; returns a JPEG of the
 * original's size. Boxes are in the upright original's pixels. libvips decodes the photo to RGB,
 * only the strips and label tiles of detectionPaints are written into it, and libvips encodes it:
 * close to a plain decode and encode (`vips copy`). (A libvips composite of the tiles streams the
 * photo instead of holding it, but blends every pixel of it: measured at 24 MP, 2.2x the CPU of
 * sharp's own JPEG-to-JPEG, where this is 1.5x; what this costs beyond that is mostly the kernel
 * mapping fresh pages for the RGB copy, 36 MB at 12 MP, 72 MB at 24 MP, for the length of one
 * call.) The caller bounds how many run at once (the tag stage: the app's whole-photo limit).
 */
export async function drawDetections(
  bytes: Buffer,
  detections: readonly Detection[],
  options: {
    quality: number;
    limits: ImageLimits;
    /** The label font file (config.fontPath: FONT_PATH); the canvas layer's or the repository's when absent. */
    fontPath?: string;
  },
): Promise<{ data: Buffer; width: number; height: number }> {
  // What decoding costs, and whether the output can hold it, before a pixel is decoded.
  const info = await inspectImage(bytes, options.limits);
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  const readable = await sharpReadable(bytes, options.limits, info.ext === 'heic');
  // A HEIC arrives as libheif's TIFF, whose profile, alpha and depth are what count, not the container's.
  const pixels = readable === bytes ? info : await inspectImage(readable, options.limits);
  try {
    // Flatten and convert only when there is something to do: each is a pass over the photo.
    let image = openImage(readable, options.limits, { srgb: pixels.srgb });
    if (pixels.hasAlpha) image = image.flatten({ background: '#ffffff' });
    if (!pixels.rgb8) image = image.toColourspace('srgb');
    raw = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw await imageDecodeError(cause, 'tag', bytes, options.limits);
  }
  const { width, height, channels } = raw.info;
  if (channels !== 3 || raw.data.length !== width * height * 3) {
    throw new UnsupportedImageError(`tag: expected 8-bit RGB after decoding to sRGB, got ${channels} channels in ${raw.data.length} bytes`);
  }
  paintRgb(raw.data, width, paintsFor(detections, width, height, options.fontPath));
  // Standard Huffman tables, as `vips copy` and libjpeg write by default (optimised ones cost a
  // second pass over the coefficients for a few per cent of the bytes).
  try {
    const data = await withTimeBudget(sharp(raw.data, { raw: { width, height, channels: 3 } }), options.limits)
      .jpeg({ quality: options.quality, optimiseCoding: false })
      .toBuffer();
    releaseNow(raw.data);
    return { data, width, height };
  } catch (cause) {
    throw imageEncodeError(cause, 'tag', width, height, options.limits);
  }
}

/**
 * The label tiles drawn by @napi-rs/canvas, for a width x height photo. A missing font or canvas
 * module is the deployment's (RuntimeLoadError, retried); anything else the canvas throws here is
 * about this photo's size or detections, so bad input.
 */
function paintsFor(detections: readonly Detection[], width: number, height: number, fontPath?: string): Paint[] {
  try {
    return detectionPaints(detections, width, height, fontPath);
  } catch (cause) {
    if (cause instanceof RuntimeLoadError) throw cause;
    const message = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
    throw new UnsupportedImageError(`tag: cannot draw the labels on the ${width}x${height} image: ${message}`, { cause });
  }
}

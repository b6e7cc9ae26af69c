import { createCanvas } from '@napi-rs/canvas';
import type { OverlayOptions } from 'sharp';
import type { Detection } from '../contracts';
import { type ImageLimits, imageDecodeError, inspectImage, openImage } from '../image/openImage';
import { ensureLabelFont } from './labelFont';

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

function solid(rect: { left: number; top: number; width: number; height: number }, colour: string): OverlayOptions {
  return { input: { create: { width: rect.width, height: rect.height, channels: 4, background: colour } }, left: rect.left, top: rect.top };
}

/**
 * The overlays for the detections, in drawing order (low scores first, so the most confident
 * labels end up on top): each box is four solid strips of the line width inside its edges, each
 * label a small RGBA tile drawn with @napi-rs/canvas ("label 0.87" on the label's colour) above
 * the box when there is room, else inside its top edge, never off the image. Only these tiles are
 * drawn in JavaScript; libvips composites them onto the photo while it streams through.
 */
export function detectionOverlays(detections: readonly Detection[], width: number, height: number): OverlayOptions[] {
  const family = ensureLabelFont();
  const { fontPx, lineWidth: lw, pad } = labelMetrics(width, height);
  const font = `${fontPx}px ${family}`;
  const measure = createCanvas(1, 1).getContext('2d');
  measure.font = font;
  const overlays: OverlayOptions[] = [];
  for (const d of [...detections].sort((a, b) => a.score - b.score)) {
    const colour = colourFor(d.label);
    const { x, y, width: w, height: h } = d.box;
    for (const strip of [
      clip(x, y, w, Math.min(lw, h), width, height), // top
      clip(x, y + h - Math.min(lw, h), w, Math.min(lw, h), width, height), // bottom
      clip(x, y, Math.min(lw, w), h, width, height), // left
      clip(x + w - Math.min(lw, w), y, Math.min(lw, w), h, width, height), // right
    ]) {
      if (strip) overlays.push(solid(strip, colour));
    }

    const text = `${d.label} ${d.score.toFixed(2)}`;
    const tw = Math.min(width, Math.ceil(measure.measureText(text).width) + 2 * pad);
    const th = Math.min(height, fontPx + 2 * pad);
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
    // Opaque everywhere (the label's background), so straight and premultiplied alpha agree.
    const pixels = ctx.getImageData(0, 0, tw, th).data;
    overlays.push({
      input: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength),
      raw: { width: tw, height: th, channels: 4 },
      left: Math.min(lx, width - tw),
      top: Math.min(ly, height - th),
    });
  }
  return overlays;
}

/**
 * Draws each detection's box and "label 0.87" on the upright original; returns a JPEG of the
 * original's size. Boxes are in the upright original's pixels. One libvips pipeline: decode,
 * composite the small tiles of detectionOverlays, encode — the photo itself never enters
 * JavaScript, so the cost is close to a plain decode and encode (`vips copy`), and the memory a
 * few strips of it (sequential access).
 */
export async function drawDetections(
  bytes: Buffer,
  detections: readonly Detection[],
  options: { quality: number; limits: ImageLimits },
): Promise<{ data: Buffer; width: number; height: number }> {
  const { width, height } = await inspectImage(bytes, options.limits);
  const overlays = detectionOverlays(detections, width, height);
  try {
    const out = await openImage(bytes, options.limits)
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .composite(overlays)
      // Standard Huffman tables, as `vips copy` and libjpeg write by default (optimised ones cost
      // a second pass over the coefficients for a few per cent of the bytes).
      .jpeg({ quality: options.quality, optimiseCoding: false })
      .toBuffer({ resolveWithObject: true });
    return { data: out.data, width: out.info.width, height: out.info.height };
  } catch (cause) {
    throw await imageDecodeError(cause, 'tag', bytes);
  }
}

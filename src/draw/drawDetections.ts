import { createCanvas, ImageData } from '@napi-rs/canvas';
import type { Detection } from '../contracts';
import { type ImageLimits, imageDecodeError, openImage } from '../image/openImage';
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

/**
 * Draws each detection's box and "label 0.87" on the upright original; returns a JPEG of the
 * original's size. Boxes are in the upright original's pixels.
 */
export async function drawDetections(
  bytes: Buffer,
  detections: readonly Detection[],
  options: { quality: number; limits: ImageLimits },
): Promise<{ data: Buffer; width: number; height: number }> {
  let raw: { data: Buffer; info: { width: number; height: number } };
  try {
    raw = await openImage(bytes, options.limits)
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw imageDecodeError(cause, 'tag');
  }
  const { width, height } = raw.info;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(raw.data.buffer, raw.data.byteOffset, raw.data.length), width, height), 0, 0);

  const family = ensureLabelFont();
  const { fontPx, lineWidth, pad } = labelMetrics(width, height);
  ctx.font = `${fontPx}px ${family}`;
  ctx.textBaseline = 'top';
  ctx.lineJoin = 'round';

  // Draw low scores first so the most confident labels end up on top.
  for (const d of [...detections].sort((a, b) => a.score - b.score)) {
    const colour = colourFor(d.label);
    const { x, y, width: w, height: h } = d.box;
    ctx.strokeStyle = colour;
    ctx.lineWidth = lineWidth;
    ctx.strokeRect(x + lineWidth / 2, y + lineWidth / 2, Math.max(0, w - lineWidth), Math.max(0, h - lineWidth));

    const text = `${d.label} ${d.score.toFixed(2)}`;
    const tw = Math.ceil(ctx.measureText(text).width) + 2 * pad;
    const th = fontPx + 2 * pad;
    // Above the box when there is room, else inside its top edge; never off the image.
    const lx = Math.min(Math.max(0, x), Math.max(0, width - tw));
    const ly = y - th >= 0 ? y - th : Math.min(y, Math.max(0, height - th));
    ctx.fillStyle = colour;
    ctx.fillRect(lx, ly, tw, th);
    ctx.fillStyle = textColourOn(colour);
    ctx.fillText(text, lx + pad, ly + pad);
  }
  const data = await canvas.encode('jpeg', options.quality);
  return { data, width, height };
}

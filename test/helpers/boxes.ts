import type { Detection } from '../../src/domain/messages';

export type Xywh = [number, number, number, number];

/** IoU of two [x, y, width, height] boxes. */
export function iouXywh(a: Xywh, b: Xywh): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/** A detection's box as [x, y, width, height], the reference file's form. */
export const xywh = (d: Detection): Xywh => [d.box.x, d.box.y, d.box.width, d.box.height];

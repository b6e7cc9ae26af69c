import { labelForColumn } from '../domain/cocoLabels';
import type { Detection } from '../domain/messages';

export interface NmsOptions {
  /** Keep candidates scoring strictly above this (TF semantics). Default 0.5. */
  scoreThreshold?: number;
  /** Suppress a candidate whose IoU with a kept box is >= this (TF semantics). Default 0.5. */
  iouThreshold?: number;
  /** At most this many detections in all. Default 20. */
  maxDetections?: number;
  /**
   * true: each anchor takes its best class and one NMS runs over all anchors whatever their
   * class (what @tensorflow-models/coco-ssd 2.2.3, the reference, does).
   * false: NMS per class over the full score matrix, so overlapping objects of different classes
   * both survive and one anchor may yield several classes.
   * Default true: see DEFAULT_CLASS_AGNOSTIC.
   */
  classAgnostic?: boolean;
}

/**
 * The default is class-agnostic NMS, as the reference does. The issue asked for per-class NMS; it is
 * available (`classAgnostic: false`), but on the shared fixtures it yields detections the reference
 * does not: a second class on an object already found (dog.jpg: "cat" 0.572 on the dog's box;
 * horses.jpg: "horse" 0.531 on the cow's box; giraffe.jpg: "zebra" 0.606 on a box overlapping
 * the giraffe). That breaks the accuracy contract "the reference's objects and nothing else at
 * score >= 0.5" (test/integration/detector-accuracy.test.ts), and the tag stage would draw two
 * labels on one animal. Class-agnostic reproduces the reference list exactly on every fixture.
 */
export const DEFAULT_CLASS_AGNOSTIC = true;

export const DEFAULT_NMS: Required<NmsOptions> = {
  scoreThreshold: 0.5,
  iouThreshold: 0.5,
  maxDetections: 20,
  classAgnostic: DEFAULT_CLASS_AGNOSTIC,
};

/**
 * IoU of boxes i and j of a flat [ymin, xmin, ymax, xmax] array, as TF computes it (corners may
 * come in either order; an empty box has IoU 0).
 */
export function iou(boxes: ArrayLike<number>, i: number, j: number): number {
  const a0 = boxes[i * 4]!,
    a1 = boxes[i * 4 + 1]!,
    a2 = boxes[i * 4 + 2]!,
    a3 = boxes[i * 4 + 3]!;
  const b0 = boxes[j * 4]!,
    b1 = boxes[j * 4 + 1]!,
    b2 = boxes[j * 4 + 2]!,
    b3 = boxes[j * 4 + 3]!;
  const ayMin = Math.min(a0, a2),
    axMin = Math.min(a1, a3),
    ayMax = Math.max(a0, a2),
    axMax = Math.max(a1, a3);
  const byMin = Math.min(b0, b2),
    bxMin = Math.min(b1, b3),
    byMax = Math.max(b0, b2),
    bxMax = Math.max(b1, b3);
  const areaA = (ayMax - ayMin) * (axMax - axMin);
  const areaB = (byMax - byMin) * (bxMax - bxMin);
  if (areaA <= 0 || areaB <= 0) return 0;
  const ih = Math.max(Math.min(ayMax, byMax) - Math.max(ayMin, byMin), 0);
  const iw = Math.max(Math.min(axMax, bxMax) - Math.max(axMin, bxMin), 0);
  const inter = ih * iw;
  return inter / (areaA + areaB - inter);
}

/**
 * Greedy hard NMS with the semantics of tf.image.nonMaxSuppression: candidates are the boxes
 * scoring > scoreThreshold (optionally only those listed in `indices`), taken by score descending
 * (ties: lower index first); one is dropped when its IoU with an already kept box is >= iouThreshold.
 * Returns the kept box indices, best first.
 */
export function nonMaxSuppression(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  maxOutput: number,
  iouThreshold: number,
  scoreThreshold: number,
  indices?: ArrayLike<number>,
): number[] {
  const candidates: number[] = [];
  const n = indices ? indices.length : scores.length;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k]! : k;
    if (scores[i]! > scoreThreshold) candidates.push(i);
  }
  candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const kept: number[] = [];
  for (const i of candidates) {
    if (kept.length >= maxOutput) break;
    let suppressed = false;
    for (let k = kept.length - 1; k >= 0; k--) {
      if (iou(boxes, i, kept[k]!) >= iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(i);
  }
  return kept;
}

export interface RawDetections {
  /** [numAnchors, numClasses] probabilities; column j is COCO class id j + 1. */
  scores: ArrayLike<number>;
  /** [numAnchors, 4] normalised ymin, xmin, ymax, xmax. */
  boxes: ArrayLike<number>;
  numAnchors: number;
  numClasses: number;
}

/**
 * From raw model outputs to detections in the image's pixels: NMS (class-agnostic or per class),
 * boxes scaled to width x height and clamped to the image, sorted by score descending.
 * Columns whose class id has no name in the label map are ignored.
 */
export function postprocess(raw: RawDetections, imageWidth: number, imageHeight: number, options: NmsOptions = {}): Detection[] {
  const { scoreThreshold, iouThreshold, maxDetections, classAgnostic } = { ...DEFAULT_NMS, ...stripUndefined(options) };
  const { scores, boxes, numAnchors, numClasses } = raw;
  const picks: { anchor: number; column: number; score: number }[] = [];

  if (classAgnostic) {
    // Each anchor's best named class, then one NMS over all anchors.
    const best = new Float32Array(numAnchors);
    const bestColumn = new Int32Array(numAnchors).fill(-1);
    for (let a = 0; a < numAnchors; a++) {
      let max = -Infinity;
      let col = -1;
      const row = a * numClasses;
      for (let c = 0; c < numClasses; c++) {
        const s = scores[row + c]!;
        if (s > max && labelForColumn(c) !== undefined) {
          max = s;
          col = c;
        }
      }
      best[a] = max;
      bestColumn[a] = col;
    }
    for (const anchor of nonMaxSuppression(boxes, best, maxDetections, iouThreshold, scoreThreshold)) {
      picks.push({ anchor, column: bestColumn[anchor]!, score: best[anchor]! });
    }
  } else {
    // One NMS per class over the anchors scoring above the threshold in that class.
    const column = new Float32Array(numAnchors);
    const above: number[] = [];
    for (let c = 0; c < numClasses; c++) {
      if (labelForColumn(c) === undefined) continue;
      above.length = 0;
      for (let a = 0; a < numAnchors; a++) {
        const s = scores[a * numClasses + c]!;
        column[a] = s;
        if (s > scoreThreshold) above.push(a);
      }
      if (above.length === 0) continue;
      for (const anchor of nonMaxSuppression(boxes, column, maxDetections, iouThreshold, scoreThreshold, above)) {
        picks.push({ anchor, column: c, score: column[anchor]! });
      }
    }
    picks.sort((p, q) => q.score - p.score || p.anchor - q.anchor || p.column - q.column);
    picks.length = Math.min(picks.length, maxDetections);
  }

  return picks.map(({ anchor, column, score }) => ({
    label: labelForColumn(column)!,
    score,
    box: toPixelBox(boxes, anchor, imageWidth, imageHeight),
  }));
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : Math.min(v, hi);
}

/** Normalised [ymin, xmin, ymax, xmax] of box i to {x, y, width, height} pixels, clamped to the image. */
export function toPixelBox(boxes: ArrayLike<number>, i: number, width: number, height: number): Detection['box'] {
  const y0 = boxes[i * 4]!,
    x0 = boxes[i * 4 + 1]!,
    y1 = boxes[i * 4 + 2]!,
    x1 = boxes[i * 4 + 3]!;
  const left = clamp(Math.min(x0, x1) * width, 0, width);
  const right = clamp(Math.max(x0, x1) * width, 0, width);
  const top = clamp(Math.min(y0, y1) * height, 0, height);
  const bottom = clamp(Math.max(y0, y1) * height, 0, height);
  return { x: left, y: top, width: right - left, height: bottom - top };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

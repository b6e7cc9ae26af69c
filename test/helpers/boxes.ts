import { iouXywh } from '../../models/faithfulness';
import type { Detection } from '../../src/domain/messages';

export { iouXywh, type Xywh } from '../../models/faithfulness';

/** A detection's box as [x, y, width, height], the reference file's form. */
export const xywh = (d: Detection): [number, number, number, number] => [d.box.x, d.box.y, d.box.width, d.box.height];

export const SAME_DETECTION = { iou: 0.5, score: 0.03 };

/** Whether two detections are the same object: same label, boxes overlapping by IoU >= `iou`, scores within `score`. */
export function sameDetection(a: Detection, b: Detection, tolerance = SAME_DETECTION): boolean {
  return a.label === b.label && iouXywh(xywh(a), xywh(b)) >= tolerance.iou && Math.abs(a.score - b.score) <= tolerance.score;
}

/**
 * The same detections as `expected`, within tolerances: each settled expected one (not in
 * `unsettled`) matched, in order of score, by a distinct detection of `got` that is the same object
 * (sameDetection); and every other detection of `got` either the same label and place as an
 * unsettled expected one (IoU >= the tolerance's), or itself unsettled: scored under `borderline`.
 * `unsettled`: expected detections the reference itself is not sure of. Throws saying what did not match.
 */
export function assertSameDetections(
  got: readonly Detection[],
  expected: readonly Detection[],
  what: string,
  options: { tolerance?: typeof SAME_DETECTION; unsettled?: readonly Detection[]; borderline?: number } = {},
): void {
  const tolerance = options.tolerance ?? SAME_DETECTION;
  const unsettled = options.unsettled ?? [];
  const shown = (ds: readonly Detection[]) => ds.map((d) => `${d.label} ${d.score.toFixed(3)}`).join(', ');
  const unused = [...got];
  for (const e of [...expected].sort((a, b) => b.score - a.score)) {
    if (unsettled.includes(e)) continue;
    const i = unused.findIndex((g) => sameDetection(g, e, tolerance));
    if (i < 0) {
      throw new Error(
        `${what}: no detection matches ${e.label} ${e.score.toFixed(3)} (IoU >= ${tolerance.iou}, score within ${tolerance.score}) among ${shown(got)}`,
      );
    }
    unused.splice(i, 1);
  }
  const extra = unused.filter(
    (g) =>
      g.score >= (options.borderline ?? 0) && !unsettled.some((u) => u.label === g.label && iouXywh(xywh(u), xywh(g)) >= tolerance.iou),
  );
  if (extra.length > 0) throw new Error(`${what}: detections not in the reference (${shown(expected)}): ${shown(extra)}`);
}

/**
 * The contract the default model is held to against the TF.js reference, on every photo of the
 * evaluation set and every accuracy fixture: it finds every object the reference finds at score
 * >= 0.5 (same label, IoU >= 0.5), adds none at >= 0.5, and moves no matched score by more than 0.02.
 * A drift of 0.05 would flip every borderline detection (reference scores 0.5-0.65), hence 0.02.
 */

export const FAITHFUL = { minScore: 0.5, minIou: 0.5, maxScoreDelta: 0.02 } as const;

export type Xywh = [number, number, number, number];

/** What the reference found: label, score, box [x, y, width, height] in the photo's pixels. */
export interface ReferenceObject {
  label: string;
  score: number;
  bbox: Xywh;
}

/** What the detector found (the pipeline's Detection shape). */
export interface FoundObject {
  label: string;
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

export interface Judgement {
  /** Each reference object with the detection paired to it. */
  pairs: { reference: ReferenceObject; found: FoundObject; iou: number; delta: number }[];
  /** Reference objects with no detection of the same label at IoU >= 0.5 and score >= 0.5. */
  missing: ReferenceObject[];
  /** Our detections at score >= 0.5 paired with no reference object. */
  added: FoundObject[];
  /** Pairs whose score moved by more than FAITHFUL.maxScoreDelta. */
  drifted: { reference: ReferenceObject; found: FoundObject; iou: number; delta: number }[];
  worstDelta: number;
  worstIou: number;
}

/** IoU of two [x, y, width, height] boxes. */
export function iouXywh(a: Xywh, b: Xywh): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

const xywh = (d: FoundObject): Xywh => [d.box.x, d.box.y, d.box.width, d.box.height];

/**
 * Pairs each reference object, best score first, with the best-overlapping unpaired detection of its
 * label (score >= 0.5, IoU >= 0.5), one to one, and says what is missing, added and drifted.
 */
export function judge(found: FoundObject[], reference: ReferenceObject[]): Judgement {
  const left = found.filter((d) => d.score >= FAITHFUL.minScore);
  const pairs: Judgement['pairs'] = [];
  const missing: ReferenceObject[] = [];
  for (const ref of [...reference].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIou = 0;
    left.forEach((d, k) => {
      const v = d.label === ref.label ? iouXywh(xywh(d), ref.bbox) : 0;
      if (v >= FAITHFUL.minIou && v > bestIou) [best, bestIou] = [k, v];
    });
    if (best === -1) {
      missing.push(ref);
      continue;
    }
    const [d] = left.splice(best, 1) as [FoundObject];
    pairs.push({ reference: ref, found: d, iou: bestIou, delta: Math.abs(d.score - ref.score) });
  }
  return {
    pairs,
    missing,
    added: left,
    drifted: pairs.filter((p) => p.delta > FAITHFUL.maxScoreDelta),
    worstDelta: Math.max(0, ...pairs.map((p) => p.delta)),
    worstIou: Math.min(1, ...pairs.map((p) => p.iou)),
  };
}

/** True when the judgement holds the contract. */
export const holds = (j: Judgement): boolean => j.missing.length === 0 && j.added.length === 0 && j.drifted.length === 0;

/** "person 0.652, couch 0.585" */
export const showObjects = (ds: { label: string; score: number }[]): string =>
  ds.map((d) => `${d.label} ${d.score.toFixed(3)}`).join(', ') || 'none';

/** One line saying how a judgement failed (or that it held), for assertion messages and reports. */
export function describeJudgement(j: Judgement): string {
  const drift = j.drifted.map((p) => `${p.reference.label} ${p.reference.score.toFixed(3)} -> ${p.found.score.toFixed(3)}`).join(', ');
  return (
    `found ${j.pairs.length}/${j.pairs.length + j.missing.length}, worst score delta ${j.worstDelta.toFixed(3)}, worst IoU ${j.worstIou.toFixed(3)}` +
    (j.missing.length ? `; missing ${showObjects(j.missing)}` : '') +
    (j.added.length ? `; added ${showObjects(j.added)}` : '') +
    (drift ? `; drifted ${drift}` : '')
  );
}

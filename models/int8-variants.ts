/**
 * Which int8 variants were tried for the default model, and what each does to the detections:
 * builds each variant from the float model (models/quantize.ts, calibrated on the calibration photos),
 * runs the detector with it on every evaluation photo (models/evaluation.ts) and judges it against
 * the TF.js reference's detections by the faithful contract (models/faithfulness.ts), then times each
 * model alone at one intra-op thread, interleaved with the float model in the same run.
 *
 *   npx tsx models/int8-variants.ts [--only A,C] [--runs 30]
 *
 * Variants are written to .cache/models/variants/ (never to layers/model/). The table this prints
 * is the one in models/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { detect } from '../src/detect/Detector';
import { clearSessionCache } from '../src/detect/loadSession';
import { calibrate, calibratePercentile, calibrationImages } from './calibrate';
import { ensureFloatModel } from './ensure-float-model';
import { ensureEvaluationPhotos, readEvaluationReference } from './evaluation';
import { holds, type Judgement, judge } from './faithfulness';
import { CACHE_DIR } from './paths';
import { quantizeModel, quantPlan } from './quantize';

const FIRST = 'FeatureExtractor/MobilenetV2/Conv/BatchNorm/batchnorm/mul_1';
const isPredictor = (n: string) => /(ClassPredictor|BoxEncodingPredictor)\/Conv2D$/.test(n);
const isClassPredictor = (n: string) => /ClassPredictor\/Conv2D$/.test(n);
const isHead = (n: string) => n.startsWith('BoxPredictor_');
const isFirstHalf = (n: string) => n === FIRST || /^FeatureExtractor\/MobilenetV2\/expanded_conv(_[1-7])?\//.test(n);

interface Variant {
  id: string;
  what: string;
  /** Convs (by node name) kept in float; the rest are quantized. */
  keepFloat: (conv: string) => boolean;
  /** Percentile calibration instead of min/max. */
  percentile?: number;
}

export const VARIANTS: Variant[] = [
  { id: 'A', what: 'every Conv int8, min/max (the recorded int8 model)', keepFloat: () => false },
  { id: 'B', what: 'class predictors float', keepFloat: isClassPredictor },
  { id: 'C', what: 'box and class predictors float', keepFloat: isPredictor },
  { id: 'D', what: 'first Conv + predictors float', keepFloat: (n) => n === FIRST || isPredictor(n) },
  { id: 'E', what: 'first Conv + whole heads float', keepFloat: (n) => n === FIRST || isHead(n) },
  { id: 'F', what: 'predictors float, percentile 99.99 %', keepFloat: isPredictor, percentile: 0.9999 },
  { id: 'G', what: 'first Conv + heads float, percentile 99.999 %', keepFloat: (n) => n === FIRST || isHead(n), percentile: 0.99999 },
  { id: 'H', what: 'only the 1x1 expansion Convs int8', keepFloat: (n) => !/\/expand\//.test(n) },
  { id: 'I', what: 'only the first half of the backbone int8', keepFloat: (n) => !isFirstHalf(n) },
];

interface Row {
  id: string;
  what: string;
  file: string;
  found: number;
  missed: number;
  added: number;
  drifted: number;
  worstDelta: number;
  worstIou: number;
  holds: boolean;
  mb: number;
  ms?: number;
}

async function judgeModel(modelPath: string): Promise<Judgement[]> {
  const reference = readEvaluationReference();
  const out: Judgement[] = [];
  for (const p of ensureEvaluationPhotos()) {
    const found = await detect(readFileSync(p.file), { modelPath, intraOpNumThreads: 1 });
    out.push(judge(found, reference[p.id]?.detections ?? []));
  }
  await clearSessionCache();
  return out;
}

function row(id: string, what: string, file: string, js: Judgement[]): Row {
  return {
    id,
    what,
    file,
    found: js.reduce((a, j) => a + j.pairs.length, 0),
    missed: js.reduce((a, j) => a + j.missing.length, 0),
    added: js.reduce((a, j) => a + j.added.length, 0),
    drifted: js.reduce((a, j) => a + j.drifted.length, 0),
    worstDelta: Math.max(...js.map((j) => j.worstDelta)),
    worstIou: Math.min(...js.map((j) => j.worstIou)),
    holds: js.every(holds),
    mb: readFileSync(file).length / 1e6,
  };
}

/** Median model-only ms of each file at one intra-op thread, interleaved run by run. */
async function timeModels(files: string[], runs: number): Promise<number[]> {
  const input = new Float32Array(300 * 300 * 3).map((_, i) => (i * 31 + ((i / 900) | 0) * 7) % 256);
  const feeds = { image: new ort.Tensor('float32', input, [1, 300, 300, 3]) };
  const sessions = [];
  for (const f of files)
    sessions.push(
      await ort.InferenceSession.create(f, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      }),
    );
  const times = files.map(() => [] as number[]);
  for (let i = 0; i < runs + 3; i++)
    for (const [k, s] of sessions.entries()) {
      const t = performance.now();
      await s.run(feeds);
      if (i >= 3) times[k]?.push(performance.now() - t);
    }
  for (const s of sessions) await s.release();
  return times.map((t) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)] as number);
}

const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string', default: '30' } } });
const only = values.only?.split(',');
const floatPath = await ensureFloatModel();
const floatBytes = readFileSync(floatPath);
const images = await calibrationImages();
const dir = path.join(CACHE_DIR, 'variants');
mkdirSync(dir, { recursive: true });

const rows: Row[] = [row('float', 'the conversion itself (the default)', floatPath, await judgeModel(floatPath))];
for (const v of VARIANTS.filter((x) => !only || only.includes(x.id))) {
  process.stderr.write(`variant ${v.id}: ${v.what}…\n`);
  const plan = quantPlan(floatBytes, { keepFloat: (c) => v.keepFloat(c.name) });
  let ranges = await calibrate(floatBytes, plan.targets, images);
  if (v.percentile) ranges = await calibratePercentile(floatBytes, plan.targets, images, ranges, v.percentile);
  const { bytes } = quantizeModel(floatBytes, plan, ranges);
  const file = path.join(dir, `${v.id}.onnx`);
  writeFileSync(file, bytes);
  rows.push(row(v.id, v.what, file, await judgeModel(file)));
}
const ms = await timeModels(
  rows.map((r) => r.file),
  Number(values.runs),
);
for (const [i, r] of rows.entries()) r.ms = ms[i];

const reference = readEvaluationReference();
const objects = Object.values(reference).reduce((a, e) => a + e.detections.length, 0);
console.log(
  `\n${Object.keys(reference).length} evaluation photos, ${objects} reference objects; model-only ms: median of ${values.runs} interleaved runs, 1 thread, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
console.log('| variant | found | missed | added | moved > 0.02 | worst score delta | worst IoU | MB | model-only ms (x float) | holds |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const floatMs = rows[0]?.ms ?? 1;
for (const r of rows)
  console.log(
    `| ${r.id}: ${r.what} | ${r.found} | ${r.missed} | ${r.added} | ${r.drifted} | ${r.worstDelta.toFixed(3)} | ${r.worstIou.toFixed(3)} | ${r.mb.toFixed(1)} | ${r.ms?.toFixed(1)} (${((r.ms ?? 0) / floatMs).toFixed(2)}x) | ${r.holds ? 'yes' : 'no'} |`,
  );

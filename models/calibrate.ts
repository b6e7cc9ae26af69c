/**
 * Calibration for models/quantize.ts: runs the float model (with the tensors to quantize exposed as
 * outputs) in onnxruntime-node at one thread on the calibration photos (models/calibration-photos.json:
 * natural photos from a pinned Debian package, not the accuracy fixtures), preprocessed exactly as
 * the detector does (decodeForModel, then the TF-exact bilinear resize of src/detect/preprocess.ts),
 * and records each tensor's min and max.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeForModel, MODEL_SIZE, resizeBilinear } from '../src/detect/preprocess';
import { ModelBuildError } from './errors';
import { ensureCalibrationPhotos, readCalibrationRecord } from './fetch-calibration';
import { calibrationModel, type QuantTarget, type Range } from './quantize';

export interface CalibrationImage {
  name: string;
  sha256: string;
  input: Float32Array;
}

/** The calibration photos, in the record's order, as the model's [1,300,300,3] input. */
export async function calibrationImages(dir = ensureCalibrationPhotos((m) => process.stderr.write(`${m}\n`))): Promise<CalibrationImage[]> {
  const out: CalibrationImage[] = [];
  for (const { name } of readCalibrationRecord().photos) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path.join(dir, name));
    } catch (cause) {
      throw new ModelBuildError(`calibration images: expected ${name} in ${dir}, could not read it`, { cause });
    }
    const { image } = await decodeForModel(bytes);
    out.push({ name, sha256: createHash('sha256').update(bytes).digest('hex'), input: resizeBilinear(image, MODEL_SIZE, MODEL_SIZE) });
  }
  return out;
}

/**
 * Min and max of each target tensor over the images, and its per-channel mean (axis 1, NCHW) for
 * bias correction. One intra-op thread and float64 sums in a fixed order: reproducible.
 */
export async function calibrate(floatModel: Uint8Array, targets: QuantTarget[], images: CalibrationImage[]): Promise<Map<string, Range>> {
  const session = await ort.InferenceSession.create(calibrationModel(floatModel, targets), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'basic',
  });
  const ranges = new Map<string, Range>();
  try {
    for (const image of images) {
      const out = await session.run({ image: new ort.Tensor('float32', image.input, [1, MODEL_SIZE, MODEL_SIZE, 3]) });
      for (const t of targets) {
        const value = out[t.tensor];
        const data = value?.data as Float32Array | undefined;
        if (!value || !data) throw new ModelBuildError(`calibration: the model did not return ${t.tensor}`);
        const channels = value.dims.length === 4 ? (value.dims[1] as number) : 1;
        const plane = data.length / channels;
        const means = new Float64Array(channels);
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let i = c * plane; i < (c + 1) * plane; i++) sum += data[i] as number;
          means[c] = sum / plane / images.length;
        }
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < data.length; i++) {
          const v = data[i] as number;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const r = ranges.get(t.tensor);
        if (r?.channelMeans) for (let c = 0; c < channels; c++) means[c] = (means[c] as number) + (r.channelMeans[c] as number);
        ranges.set(t.tensor, { min: Math.min(r?.min ?? min, min), max: Math.max(r?.max ?? max, max), channelMeans: means });
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}

/**
 * Percentile calibration: the ranges `base` (from calibrate()) narrowed to the values below which
 * `percentile` of each tensor's values lie (and above which as many lie at the low end), from a
 * second pass with a 8192-bin histogram over each base range. Outliers then clip instead of
 * stretching the step. Tried for the int8 model (models/int8-variants.ts): it moved scores more than
 * min/max does.
 */
export async function calibratePercentile(
  floatModel: Uint8Array,
  targets: QuantTarget[],
  images: CalibrationImage[],
  base: Map<string, Range>,
  percentile: number,
): Promise<Map<string, Range>> {
  const BINS = 8192;
  const session = await ort.InferenceSession.create(calibrationModel(floatModel, targets), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'basic',
  });
  const histograms = new Map(targets.map((t) => [t.tensor, new Float64Array(BINS)]));
  try {
    for (const image of images) {
      const out = await session.run({ image: new ort.Tensor('float32', image.input, [1, MODEL_SIZE, MODEL_SIZE, 3]) });
      for (const t of targets) {
        const range = base.get(t.tensor);
        const data = out[t.tensor]?.data as Float32Array | undefined;
        const h = histograms.get(t.tensor);
        if (!range || !data || !h) throw new ModelBuildError(`percentile calibration: no range or output for ${t.tensor}`);
        const width = (range.max - range.min) / BINS || 1;
        for (let i = 0; i < data.length; i++) {
          const bin = Math.min(BINS - 1, Math.max(0, Math.floor(((data[i] as number) - range.min) / width)));
          h[bin] = (h[bin] as number) + 1;
        }
      }
    }
  } finally {
    await session.release();
  }
  const narrowed = new Map<string, Range>();
  for (const t of targets) {
    const range = base.get(t.tensor) as Range;
    const h = histograms.get(t.tensor) as Float64Array;
    const total = h.reduce((a, b) => a + b, 0);
    const tail = total * (1 - percentile);
    const width = (range.max - range.min) / BINS;
    let lo = 0;
    for (let acc = 0; lo < BINS - 1 && acc + (h[lo] as number) <= tail; lo++) acc += h[lo] as number;
    let hi = BINS - 1;
    for (let acc = 0; hi > 0 && acc + (h[hi] as number) <= tail; hi--) acc += h[hi] as number;
    narrowed.set(t.tensor, { ...range, min: range.min + lo * width, max: range.min + (hi + 1) * width });
  }
  return narrowed;
}

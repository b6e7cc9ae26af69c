/**
 * Model-only latency: the TF.js reference (tfjs-wasm, 1 thread) against the ONNX conversion in
 * onnxruntime-node at 1 intra-op thread and at its default thread count. Prints medians over
 * RUNS inferences after a warm-up, the speed-up, and the cold start (session create + first run).
 *
 *   npx tsx bench/model.bench.ts [--runs 30] [--compare-plain]
 *
 * --compare-plain also builds the unoptimised variant (every Conv wrapped in transposes, batch norm
 * as Mul/Add) into .cache/models/ and times it at 1 thread, to show what the optimisation buys.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../models/build';
import { ensureModel } from '../models/ensure-model';
import { CACHE_DIR } from '../models/paths';
import { loadTfjsReference, tf } from './tfjs-reference';

const SIZE = 300;

export interface ModelBenchResult {
  runs: number;
  tfjsMedianMs: number;
  tfjsColdMs: number;
  ort1MedianMs: number;
  ort1ColdMs: number;
  ortDefaultMedianMs: number;
  ortDefaultColdMs: number;
  plain1MedianMs?: number;
  speedup1: number;
  speedupDefault: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function timeRuns(runs: number, once: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await once(); // warm-up: allocators, caches, JIT
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** A fixed, image-like input (latency does not depend on content, but keep it realistic). */
function pattern(): Int32Array {
  const px = new Int32Array(SIZE * SIZE * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 31 + ((i / 900) | 0) * 7) % 256;
  return px;
}

async function benchOrt(file: string, options: ort.InferenceSession.SessionOptions, input: Float32Array, runs: number): Promise<{ cold: number; median: number }> {
  const feeds = { image: new ort.Tensor('float32', input, [1, SIZE, SIZE, 3]) };
  const t = performance.now();
  const session = await ort.InferenceSession.create(file, options);
  await session.run(feeds);
  const cold = performance.now() - t;
  const med = await timeRuns(runs, () => session.run(feeds));
  await session.release();
  return { cold, median: med };
}

export async function runModelBench(opts: { runs?: number; comparePlain?: boolean } = {}): Promise<ModelBenchResult> {
  const runs = opts.runs ?? 30;
  const file = await ensureModel();
  const pixels = pattern();
  const floats = Float32Array.from(pixels);

  const ort1 = await benchOrt(file, { intraOpNumThreads: 1 }, floats, runs);
  const ortDefault = await benchOrt(file, {}, floats, runs);
  let plain1MedianMs: number | undefined;
  if (opts.comparePlain) {
    const plainFile = path.join(CACHE_DIR, 'ssdlite_mobilenet_v2_coco.plain.onnx');
    buildModel({ options: { nchwBody: false, foldBatchNorm: false }, out: plainFile });
    plain1MedianMs = (await benchOrt(plainFile, { intraOpNumThreads: 1 }, floats, runs)).median;
  }

  const t = performance.now();
  const reference = await loadTfjsReference();
  const image = tf.tensor4d(pixels, [1, SIZE, SIZE, 3], 'int32'); // after the backend is up
  await reference.run(image);
  const tfjsColdMs = performance.now() - t;
  const tfjsMedianMs = await timeRuns(runs, () => reference.run(image));
  reference.dispose();
  image.dispose();

  return {
    runs,
    tfjsMedianMs,
    tfjsColdMs,
    ort1MedianMs: ort1.median,
    ort1ColdMs: ort1.cold,
    ortDefaultMedianMs: ortDefault.median,
    ortDefaultColdMs: ortDefault.cold,
    plain1MedianMs,
    speedup1: tfjsMedianMs / ort1.median,
    speedupDefault: tfjsMedianMs / ortDefault.median,
  };
}

function report(r: ModelBenchResult): void {
  const ms = (v: number) => `${v.toFixed(1).padStart(7)} ms`;
  console.log(`model-only latency, median of ${r.runs} runs after 3 warm-ups (input [1,300,300,3]):`);
  console.log(`  tfjs-wasm reference, 1 thread   ${ms(r.tfjsMedianMs)}   cold (load + first run) ${ms(r.tfjsColdMs)}`);
  console.log(`  ONNX, ORT 1 intra-op thread     ${ms(r.ort1MedianMs)}   cold (create + first run) ${ms(r.ort1ColdMs)}   ${r.speedup1.toFixed(1)}x faster`);
  console.log(`  ONNX, ORT default threads       ${ms(r.ortDefaultMedianMs)}   cold (create + first run) ${ms(r.ortDefaultColdMs)}   ${r.speedupDefault.toFixed(1)}x faster`);
  if (r.plain1MedianMs !== undefined) console.log(`  plain conversion, ORT 1 thread  ${ms(r.plain1MedianMs)}   (transposes around every Conv, batch norm unfolded)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, 'compare-plain': { type: 'boolean', default: false } } });
  report(await runModelBench({ runs: Number(values.runs), comparePlain: values['compare-plain'] }));
}

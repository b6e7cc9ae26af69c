/**
 * Model-only latency: the TF.js reference (tfjs-wasm, 1 thread) against the ONNX conversion in
 * onnxruntime-node at 1 intra-op thread and at its default thread count. Prints medians over
 * RUNS inferences after a warm-up, the speed-up, and the cold start (session create + first run).
 *
 *   npx tsx bench/model.bench.ts [--runs 30] [--compare-plain]
 *
 * The int8 (QDQ) model, an option beside the float default (models/README.md), is timed too, at 1
 * thread and at the default thread count.
 *
 * --compare-plain also builds the unoptimised variant (every Conv wrapped in transposes, batch norm
 * as Mul/Add) into .cache/models/ and times it at 1 thread, to show what the optimisation buys.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../models/build';
import { int8ModelPath } from '../models/build-int8';
import { ensureFloatModel } from '../models/ensure-float-model';
import { ensureLayerModels } from '../models/ensure-model';
import { CACHE_DIR } from '../models/paths';
import { loadTfjsReference, tf } from '../models/tfjs-reference';

const SIZE = 300;
const WARM_UPS = 3;

export interface ModelBenchResult {
  runs: number;
  tfjsMedianMs: number;
  tfjsColdMs: number;
  ort1MedianMs: number;
  ort1ColdMs: number;
  ortDefaultMedianMs: number;
  ortDefaultColdMs: number;
  plain1MedianMs?: number;
  int8OneMedianMs?: number;
  int8DefaultMedianMs?: number;
  speedup1: number;
  speedupDefault: number;
}

interface Contender {
  /** Load/create plus first inference, ms. */
  cold: number;
  once: () => Promise<unknown>;
  times: number[];
  close: () => Promise<void> | void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A fixed, image-like input (latency does not depend on content, but keep it realistic). */
function pattern(): Int32Array {
  const px = new Int32Array(SIZE * SIZE * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 31 + ((i / 900) | 0) * 7) % 256;
  return px;
}

async function ortContender(file: string, options: ort.InferenceSession.SessionOptions, input: Float32Array): Promise<Contender> {
  const feeds = { image: new ort.Tensor('float32', input, [1, SIZE, SIZE, 3]) };
  const t = performance.now();
  const session = await ort.InferenceSession.create(file, options);
  await session.run(feeds);
  return { cold: performance.now() - t, once: () => session.run(feeds), times: [], close: () => session.release() };
}

export async function runModelBench(opts: { runs?: number; comparePlain?: boolean } = {}): Promise<ModelBenchResult> {
  const runs = opts.runs ?? 30;
  await ensureLayerModels(); // the int8 model is built too, for its rows
  const file = await ensureFloatModel();
  const pixels = pattern();
  const floats = Float32Array.from(pixels);

  const ort1 = await ortContender(file, { intraOpNumThreads: 1 }, floats);
  const ortDefault = await ortContender(file, {}, floats);
  let plain: Contender | undefined;
  if (opts.comparePlain) {
    const plainFile = path.join(CACHE_DIR, 'ssdlite_mobilenet_v2_coco.plain.onnx');
    buildModel({ options: { nchwBody: false, foldBatchNorm: false }, out: plainFile });
    plain = await ortContender(plainFile, { intraOpNumThreads: 1 }, floats);
  }
  const int8File = int8ModelPath();
  const int8 = existsSync(int8File)
    ? [await ortContender(int8File, { intraOpNumThreads: 1 }, floats), await ortContender(int8File, {}, floats)]
    : [];
  const t = performance.now();
  const reference = await loadTfjsReference();
  const image = tf.tensor4d(pixels, [1, SIZE, SIZE, 3], 'int32'); // after the backend is up
  await reference.run(image);
  const tfjs: Contender = { cold: performance.now() - t, once: () => reference.run(image), times: [], close: () => reference.dispose() };

  // Interleave the contenders run by run, so a busy machine slows them all alike and the ratio
  // stays meaningful even when absolute numbers drift (the machine is shared).
  const all = [tfjs, ort1, ortDefault, ...(plain ? [plain] : []), ...int8];
  for (let i = 0; i < WARM_UPS + runs; i++) {
    for (const c of all) {
      const start = performance.now();
      await c.once();
      if (i >= WARM_UPS) c.times.push(performance.now() - start);
    }
  }
  for (const c of all) await c.close();
  image.dispose();

  const tfjsMedianMs = median(tfjs.times);
  return {
    runs,
    tfjsMedianMs,
    tfjsColdMs: tfjs.cold,
    ort1MedianMs: median(ort1.times),
    ort1ColdMs: ort1.cold,
    ortDefaultMedianMs: median(ortDefault.times),
    ortDefaultColdMs: ortDefault.cold,
    plain1MedianMs: plain ? median(plain.times) : undefined,
    int8OneMedianMs: int8[0] ? median(int8[0].times) : undefined,
    int8DefaultMedianMs: int8[1] ? median(int8[1].times) : undefined,
    speedup1: tfjsMedianMs / median(ort1.times),
    speedupDefault: tfjsMedianMs / median(ortDefault.times),
  };
}

function report(r: ModelBenchResult): void {
  const ms = (v: number) => `${v.toFixed(1).padStart(7)} ms`;
  console.log(`model-only latency, median of ${r.runs} interleaved runs after ${WARM_UPS} warm-ups (input [1,300,300,3]):`);
  console.log(`  tfjs-wasm reference, 1 thread   ${ms(r.tfjsMedianMs)}   cold (load + first run)   ${ms(r.tfjsColdMs)}`);
  console.log(
    `  ONNX, ORT 1 intra-op thread     ${ms(r.ort1MedianMs)}   cold (create + first run) ${ms(r.ort1ColdMs)}   ${r.speedup1.toFixed(1)}x faster`,
  );
  console.log(
    `  ONNX, ORT default threads       ${ms(r.ortDefaultMedianMs)}   cold (create + first run) ${ms(r.ortDefaultColdMs)}   ${r.speedupDefault.toFixed(1)}x faster`,
  );
  if (r.int8OneMedianMs !== undefined)
    console.log(
      `  ONNX int8, 1 thread             ${ms(r.int8OneMedianMs)}   ${(r.tfjsMedianMs / r.int8OneMedianMs).toFixed(1)}x faster (the int8 option, see models/README.md)`,
    );
  if (r.int8DefaultMedianMs !== undefined)
    console.log(
      `  ONNX int8, default threads      ${ms(r.int8DefaultMedianMs)}   ${(r.tfjsMedianMs / r.int8DefaultMedianMs).toFixed(1)}x faster`,
    );
  if (r.plain1MedianMs !== undefined)
    console.log(`  plain conversion, ORT 1 thread  ${ms(r.plain1MedianMs)}   (transposes around every Conv, batch norm unfolded)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    strict: false,
    options: { runs: { type: 'string', default: '30' }, 'compare-plain': { type: 'boolean', default: false } },
  });
  report(await runModelBench({ runs: Number(values.runs), comparePlain: values['compare-plain'] === true }));
}

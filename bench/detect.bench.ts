/**
 * Detector benchmark: `npx tsx bench/detect.bench.ts [--seconds N]`.
 * Over the shared fixtures, median full detection time (decode + preprocess + inference + NMS) and
 * median model-only latency for onnxruntime-node at 1 intra-op thread and at its default, side by
 * side with the TF.js wasm reference (one thread) measured in the same run; then the detect
 * function's cold start as Lambda pays it (bench/lambdaInit.ts: a fresh node process requires its
 * bundle and invokes it once), against a warm invocation and a bare node process of the same run.
 * --cold-runs N (default 5); --cold-profile DIR also profiles the cold start (node --cpu-prof into
 * DIR) and prints where its time goes (bench/cpuProfileSummary.ts).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ensureModel } from '../models/ensure-model';
import { loadTfjsReference, tf } from '../models/tfjs-reference';
import { detectWithTimings, runModel } from '../src/detect/Detector';
import { loadSession } from '../src/detect/loadSession';
import { decodeImage, MODEL_SIZE, resizeBilinear } from '../src/detect/preprocess';
import { NUM_CLASSES } from '../src/domain/cocoLabels';
import { fixtureNames, readFixture } from '../test/helpers/fixtures';
import { printProfileSummary } from './cpuProfileSummary';
import { coldExtraCpuMs, coldExtraMs, type InitRun, measureDetectInit } from './lambdaInit';

const { values } = parseArgs({
  strict: false,
  options: { seconds: { type: 'string', default: '3' }, 'cold-runs': { type: 'string', default: '5' }, 'cold-profile': { type: 'string' } },
});
const BUDGET_MS = Number(values.seconds) * 1000;
const COLD_RUNS = Number(values['cold-runs']);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Task {
  /** Row of the table this measures, and which column. */
  row: string;
  kind: 'full' | 'model';
  run: () => Promise<unknown>;
  times: number[];
}

/** A task that runs `once` over `items` round-robin. */
function task<T>(row: string, kind: Task['kind'], items: T[], once: (item: T) => Promise<unknown>): Task {
  let i = 0;
  return { row, kind, times: [], run: () => once(items[i++ % items.length]!) };
}

/**
 * Runs every task round-robin, one call each per round, after a warm-up pass over each, for about
 * budget x tasks: the configurations share whatever else the machine is doing at the time, so the
 * comparison stays fair on a busy machine.
 */
async function measureInterleaved(tasks: Task[], warmup: number, budgetMs: number): Promise<void> {
  for (const t of tasks) for (let i = 0; i < warmup; i++) await t.run();
  const end = performance.now() + budgetMs * tasks.length;
  while (performance.now() < end || tasks.some((t) => t.times.length < warmup)) {
    for (const t of tasks) {
      const t0 = performance.now();
      await t.run();
      t.times.push(performance.now() - t0);
    }
  }
}

interface Row {
  name: string;
  full: number[];
  model: number[];
  steps?: Record<string, number>;
}

const names = fixtureNames();
const encoded = names.map((n) => readFixture(n));
const modelPath = await ensureModel();
const tasks: Task[] = [];
const rowNames: string[] = [];
const stepTimes = new Map<string, Record<string, number[]>>();

// onnxruntime-node, 1 thread and default threads.
const inputs = await Promise.all(encoded.map(async (buf) => resizeBilinear(await decodeImage(buf), MODEL_SIZE, MODEL_SIZE)));
for (const threads of [1, undefined] as const) {
  const options = { modelPath, intraOpNumThreads: threads };
  const session = await loadSession(options);
  const name = `onnxruntime-node, ${threads === 1 ? '1 thread' : `default threads (${os.availableParallelism()} cpus)`}`;
  const steps: Record<string, number[]> = { decode: [], preprocess: [], inference: [], postprocess: [] };
  stepTimes.set(name, steps);
  rowNames.push(name);
  tasks.push(
    task(name, 'full', encoded, async (buf) => {
      const { timings } = await detectWithTimings(buf, options);
      for (const k of Object.keys(steps)) steps[k]!.push(timings[k as keyof typeof timings]);
    }),
    task(name, 'model', inputs, (input) => runModel(session, input)),
  );
}

// TF.js wasm reference: decode with sharp, int32 tensor, graph (resizes inside), coco-ssd 2.2.3 post-processing.
const reference = await loadTfjsReference();
const decodeToTensor = async (buf: Buffer) => {
  const { data, info } = await sharp(buf).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return tf.tensor4d(Int32Array.from(data), [1, info.height, info.width, info.channels], 'int32');
};
const cocoSsdPostprocess = async (scores: Float32Array, boxes: Float32Array) => {
  // coco-ssd 2.2.3: per-anchor max score in JS, then tf.image.nonMaxSuppression(20, 0.5, 0.5).
  const anchors = boxes.length / 4;
  const maxes = new Float32Array(anchors);
  for (let a = 0; a < anchors; a++) {
    let m = Number.MIN_VALUE;
    for (let c = 0; c < NUM_CLASSES; c++) m = Math.max(m, scores[a * NUM_CLASSES + c]!);
    maxes[a] = m;
  }
  const idx = tf.tidy(() => tf.image.nonMaxSuppression(tf.tensor2d(boxes, [anchors, 4]), tf.tensor1d(maxes), 20, 0.5, 0.5));
  const out = await idx.data();
  idx.dispose();
  return out;
};
const referenceName = 'TF.js wasm reference, 1 thread';
rowNames.push(referenceName);
const tensors = await Promise.all(encoded.map(decodeToTensor));
tasks.push(
  task(referenceName, 'full', encoded, async (buf) => {
    const image = await decodeToTensor(buf);
    try {
      const { scores, boxes } = await reference.run(image);
      await cocoSsdPostprocess(scores, boxes);
    } finally {
      image.dispose();
    }
  }),
  task(referenceName, 'model', tensors, (t) => reference.run(t)),
);

await measureInterleaved(tasks, names.length, BUDGET_MS);
for (const t of tensors) t.dispose();
reference.dispose();
const rows: Row[] = rowNames.map((name) => ({
  name,
  full: tasks.find((t) => t.row === name && t.kind === 'full')!.times,
  model: tasks.find((t) => t.row === name && t.kind === 'model')!.times,
  steps: stepTimes.has(name) ? Object.fromEntries(Object.entries(stepTimes.get(name)!).map(([k, v]) => [k, median(v)])) : undefined,
}));

// Cold start as Lambda pays it: a fresh node process requires the detect function's bundle and
// invokes it (bench/lambdaInit.ts); the reference is a bare node process's start to exit, same run.
const colds = await measureDetectInit({ runs: COLD_RUNS });
const bareNode: number[] = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  bareNode.push(performance.now() - t0);
}
let profileDir: string | undefined;
if (values['cold-profile']) {
  profileDir = path.resolve(String(values['cold-profile']));
  rmSync(profileDir, { recursive: true, force: true });
  await measureDetectInit({ runs: COLD_RUNS, extraArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
}

// Report.
const pad = (s: string, n: number) => s.padEnd(n);
const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(10);
const ref = rows.at(-1)!;
console.log(
  `\nDetector benchmark — ${names.length} fixtures (${names.join(', ')}), ~${BUDGET_MS / 1000} s per measurement, ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, Node ${process.versions.node}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
console.log(
  `${pad('configuration (median ms)', 48)}${'full detect'.padStart(12)}${'model only'.padStart(12)}${'runs'.padStart(8)}   ref/this (full, model)`,
);
for (const r of rows) {
  const ratio = `${(median(ref.full) / median(r.full)).toFixed(2)}x, ${(median(ref.model) / median(r.model)).toFixed(2)}x`;
  console.log(
    `${pad(r.name, 48)}${ms(median(r.full)).padStart(12)}${ms(median(r.model)).padStart(12)}${String(r.full.length).padStart(8)}   ${ratio}`,
  );
}
console.log('\nmedian steps of a full ONNX detection (ms):');
for (const r of rows.filter((x) => x.steps)) {
  console.log(
    `  ${pad(r.name, 46)} ${Object.entries(r.steps!)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')}`,
  );
}
console.log('  (the reference resizes inside its graph, so its "model only" includes the resize of the full image)');
const c = (pick: (r: InitRun) => number) => median(colds.map(pick));
const total = c((r) => r.totalMs);
console.log(
  `\ncold start of the detect function as Lambda pays it (fresh node process: require of .build/functions/detect/handler.js, then its first invocation on dog.jpg from S3 (MinIO) to SQS (ElasticMQ)), median of ${colds.length}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}:`,
);
console.log(`${pad('', 36)}${'wall'.padStart(10)}${'CPU'.padStart(10)}`);
console.log(`  ${pad('node boot (to the probe)', 34)}${ms(c((r) => r.boot))}${ms(c((r) => r.cpu.boot))}`);
console.log(`  ${pad('init: require the bundle (its app)', 34)}${ms(c((r) => r.importMs))}${ms(c((r) => r.cpu.import))}`);
console.log(`  ${pad('first invocation (model + detect)', 34)}${ms(c((r) => r.firstInvokeMs))}${ms(c((r) => r.cpu.firstInvoke))}`);
console.log(
  `  ${pad('process start to first answer', 34)}${ms(total)}${ms(c((r) => r.cpu.total))}   target 300 ms: ${(total / 300).toFixed(2)}x`,
);
console.log(
  `  ${pad('reference: a warm invocation', 34)}${ms(c((r) => r.warmInvokeMs))}${ms(c((r) => r.cpu.warmInvoke))}   cold/warm ${(total / c((r) => r.warmInvokeMs)).toFixed(1)}x`,
);
console.log(
  `  ${pad('reference: bare node start to exit', 34)}${ms(median(bareNode))}${''.padStart(10)}   cold/bare ${(total / median(bareNode)).toFixed(1)}x`,
);
console.log(
  `  billed extra per cold start (start to first answer - a warm invocation): ${ms(c(coldExtraMs)).trim()} wall, ${ms(c(coldExtraCpuMs)).trim()} CPU`,
);
if (profileDir) {
  console.log(`\nwhere the cold start's time goes (node --cpu-prof, ${colds.length} runs averaged, profiles in ${profileDir}):`);
  printProfileSummary(profileDir, '  ');
}

/**
 * Peak memory of one stage, in a fresh process (spawned by bench/pipeline.bench.ts):
 *   tsx bench/stage-memory.ts <stage> <inputs.json>
 * Loads its inputs (and, for detect, the model) first, then runs the stage over every photo twice,
 * one at a time as a Lambda container does, and prints one JSON line: the resident set before the
 * work and its high-water mark (VmHWM of /proc/self/status), in MB. Not getrusage's maxRSS: Linux
 * carries that over an exec from the parent, so a child of a big bench process would report the parent's.
 */
import { readFileSync } from 'node:fs';
import type { Detection } from '../src/contracts';
import { DECODE_MARGIN, detect, loadSession, MODEL_SIZE } from '../src/detect';
import { drawDetections } from '../src/draw/drawDetections';
import { grayscaleImage } from '../src/image/grayscaleImage';
import { inspectImage } from '../src/image/openImage';
import { resizedSize, resizeImage } from '../src/image/resizeImage';

interface Input {
  file: string;
  resizedFile: string;
  detections: Detection[];
}

const [stage, inputsFile] = process.argv.slice(2);
const inputs = JSON.parse(readFileSync(inputsFile ?? '', 'utf8')) as { modelPath: string; photos: Input[] };
const limits = { maxInputPixels: 40_000_000 };
const opts = { quality: 85, limits };
const bytes = inputs.photos.map((p) => ({
  original: readFileSync(p.file),
  resized: readFileSync(p.resizedFile),
  detections: p.detections,
}));

const sizes = await Promise.all(bytes.map((p) => inspectImage(p.original, limits)));
const viaCopy = (p: (typeof bytes)[number]) => {
  const { width, height } = sizes[bytes.indexOf(p)]!;
  const copy = resizedSize(width, height, 0.25);
  return Math.min(copy.width, copy.height) >= DECODE_MARGIN * MODEL_SIZE;
};
const run: Record<string, (p: (typeof bytes)[number]) => Promise<unknown>> = {
  upload: (p) => inspectImage(p.original, limits),
  resize: (p) => resizeImage(p.original, { scale: 0.25, ...opts }),
  grayscale: (p) => grayscaleImage(p.resized, opts),
  // As the detect stage does it: from the 25 % copy when that keeps 600 px a side (detectSourceKey).
  detect: (p) => detect(viaCopy(p) ? p.resized : p.original, { modelPath: inputs.modelPath, intraOpNumThreads: 1 }),
  tag: (p) => drawDetections(p.original, p.detections, opts),
};
const fn = run[stage ?? ''];
if (!fn) throw new Error(`stage-memory: expected one of ${Object.keys(run).join(', ')}, got ${stage}`);
if (stage === 'detect') await loadSession({ modelPath: inputs.modelPath, intraOpNumThreads: 1 });
const mb = (kb: number) => Math.round(kb / 1024);
const before = mb(process.memoryUsage.rss() / 1024);
for (let pass = 0; pass < 2; pass++) for (const p of bytes) await fn(p);
const hwmKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN);
process.stdout.write(`${JSON.stringify({ stage, beforeMb: before, peakMb: mb(hwmKb) })}\n`);

/**
 * Peak memory of one stage, in a fresh process (spawned by bench/pipeline.bench.ts):
 *   tsx bench/stage-memory.ts <stage> <inputs.json>
 * Loads the model first (for detect), then runs the stage over every photo twice, one at a time and
 * each read only when its turn comes, as a Lambda container does, and prints one JSON line: the
 * resident set before the work and its high-water mark (VmHWM of /proc/self/status), in MB. Not getrusage's maxRSS: Linux
 * carries that over an exec from the parent, so a child of a big bench process would report the parent's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { detect } from '../src/detect/Detector';
import { loadSession } from '../src/detect/loadSession';
import { DECODE_MARGIN, MODEL_SIZE } from '../src/detect/preprocess';
import { newImageId } from '../src/domain/imageId';
import { uploadKey } from '../src/domain/keys';
import type { Detection } from '../src/domain/messages';
import { drawDetections } from '../src/image/drawDetections';
import { grayscaleImage } from '../src/image/grayscaleImage';
import { inspectImage } from '../src/image/openImage';
import { resizedSize, resizeImage } from '../src/image/resizeImage';
import { ingestUpload } from '../src/ingest/ingestUpload';
import { createLogger } from '../src/logger/createLogger';
import { FsObjectStore } from '../src/ports/FsObjectStore';
import { MemoryQueue } from '../src/ports/MemoryQueue';

interface Input {
  file: string;
  resizedFile: string;
  detections: Detection[];
}

const [stage, inputsFile] = process.argv.slice(2);
const inputs = JSON.parse(readFileSync(inputsFile ?? '', 'utf8')) as { modelPath: string; photos: Input[] };
// The largest photo accepted anywhere: MAX_INPUT_PIXELS 2^26 (67.1 MP), the bound the 64mp class sits under.
const limits = { maxInputPixels: 2 ** 26 };
const opts = { quality: 85, limits };
/**
 * One photo at a time, read when its turn comes, as a Lambda container holds one record's bytes:
 * the peak is the process (Node, the modules, the model for detect) plus one photo's work, not
 * every input at once.
 */
interface Loaded {
  original: Buffer;
  resized: Buffer;
  detections: Detection[];
  width: number;
  height: number;
}
const load = async (p: Input): Promise<Loaded> => {
  const original = readFileSync(p.file);
  const { width, height } = await inspectImage(original, limits);
  return { original, resized: readFileSync(p.resizedFile), detections: p.detections, width, height };
};
const viaCopy = (p: Loaded) => {
  const copy = resizedSize(p.width, p.height, 0.25);
  return Math.min(copy.width, copy.height) >= DECODE_MARGIN * MODEL_SIZE;
};
// ingest as the function runs it (src/ingest/ingestUpload.ts) over a folder store: the object is
// written under uploads/ first (outside the measure's purpose but inside the process), then head,
// get, the check, copy, record, send, delete. On Lambda the copy is S3's and the get is the SDK's.
const ingestDir = stage === 'ingest' ? mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-')) : '';
const ingestConfig = loadConfig({
  DATA_DIR: ingestDir || os.tmpdir(),
  MAX_INPUT_PIXELS: String(limits.maxInputPixels),
  LOG_LEVEL: 'error',
});
const ingestStore = new FsObjectStore({ root: path.join(ingestDir || os.tmpdir(), 'images') });
const ingestQueue = new MemoryQueue({ maxReceiveCount: 3, visibilityTimeoutSeconds: 60 });
const ingestLog = createLogger({ level: 'error', serviceName: 'bench' }, { sink: () => undefined });
const run: Record<string, (p: Loaded) => Promise<unknown>> = {
  upload: (p) => inspectImage(p.original, limits),
  ingest: async (p) => {
    const key = uploadKey(newImageId(), 'jpg');
    await ingestStore.put(key, p.original);
    const outcome = await ingestUpload(
      key,
      { messageId: key, receiveCount: 1 },
      { store: ingestStore, queue: ingestQueue, config: ingestConfig, log: ingestLog },
    );
    if (outcome.outcome !== 'ingested') throw new Error(`ingest: ${JSON.stringify(outcome)}`);
  },
  resize: (p) => resizeImage(p.original, { scale: 0.25, ...opts }),
  grayscale: (p) => grayscaleImage(p.resized, opts),
  // As the detect stage does it: from the 25 % copy when that keeps 600 px a side (detectSourceKey).
  detect: (p) =>
    detect(viaCopy(p) ? p.resized : p.original, {
      modelPath: inputs.modelPath,
      intraOpNumThreads: 1,
      limitInputPixels: limits.maxInputPixels,
    }),
  tag: (p) => drawDetections(p.original, p.detections, opts),
};
const fn = run[stage ?? ''];
if (!fn) throw new Error(`stage-memory: expected one of ${Object.keys(run).join(', ')}, got ${stage}`);
if (stage === 'detect') await loadSession({ modelPath: inputs.modelPath, intraOpNumThreads: 1 });
const mb = (kb: number) => Math.round(kb / 1024);
const before = mb(process.memoryUsage.rss() / 1024);
for (let pass = 0; pass < 2; pass++) for (const input of inputs.photos) await fn(await load(input));
const hwmKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN);
if (ingestDir) rmSync(ingestDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ stage, beforeMb: before, peakMb: mb(hwmKb) })}\n`);

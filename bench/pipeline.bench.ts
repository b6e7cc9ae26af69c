/**
 * Pipeline benchmark, per size class: the fixtures as they are (`small`, about 0.4 MP), real-size
 * photos made from them at bench time (`12mp`, `24mp`, see bench/photos.ts) and 13 real camera
 * photos of 6-20 MP from Debian's registry (`real`, bench/realPhotos.ts; left out where apt-get is not).
 *
 *   npx tsx bench/pipeline.bench.ts [--classes small,12mp,24mp,real,64mp] [--sections stages,memory,sustained,bill]
 *                                   [--runs 3] [--images 100] [--large-images 24]
 *
 * stages     per-stage medians, one photo at a time, each photo's stages interleaved with its
 *            references from the same run: `vips copy` (full decode + encode: tag's floor),
 *            `vipsthumbnail` (resize), the reduced decode `vips copy in.jpg[shrink=N]` and the
 *            model alone (detect); ratios are per photo, then the median over photos.
 * memory     peak resident memory of each stage, each in a fresh process (bench/stage-memory.ts).
 * sustained  images/s of `npm run pipeline` (embedded default) on a folder of photos, its time
 *            against the `vips copy` floor of the same photos in the same run, its CPU per photo
 *            (start-up included and past it) and peak resident memory (GNU time's maximum RSS).
 * bill       object writes and requests per photo (counted on the embedded pipeline), and the
 *            estimated AWS cost per 1 million photos of each class (bench/bill.ts).
 * The machine may be shared: trust the ratios to references measured in the same run more than
 * the absolute figures, and repeat runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ensureModel } from '../models/ensure-model';
import { REPO_ROOT as REPO } from '../scripts/repoRoot';
import { LAMBDA_DIRECT_UPLOAD_BYTES, loadConfig } from '../src/config';
import { detectWithTimings, runModel } from '../src/detect/Detector';
import { loadSession } from '../src/detect/loadSession';
import { DECODE_MARGIN, decodeImage, decodeShrink, MODEL_SIZE, resizeBilinear } from '../src/detect/preprocess';
import type { Detection } from '../src/domain/messages';
import { STAGES } from '../src/domain/stages';
import { drawDetections } from '../src/image/drawDetections';
import { grayscaleImage } from '../src/image/grayscaleImage';
import { inspectImage } from '../src/image/openImage';
import { resizedSize, resizeImage } from '../src/image/resizeImage';
import {
  type BillInput,
  bill,
  COLD_START_RATE,
  functionSettings,
  IO_MS,
  LAMBDA_LOG_BYTES_PER_INVOCATION,
  MILLION_A_MONTH,
  printBill,
  readPrices,
} from './bill';
import { coldExtraCpuMs, coldExtraMs, measureDetectInit } from './lambdaInit';
import { isLarge, photosFor, SIZE_CLASSES, type SizeClass } from './photos';
import { countRequests, type WayIn } from './requestCounts';
import { median } from './stats';
import { vipsRefs } from './vipsRefs';

const { values } = parseArgs({
  strict: false,
  options: {
    classes: { type: 'string', default: 'small,12mp,24mp,real' },
    sections: { type: 'string', default: 'stages,memory,sustained,bill' },
    runs: { type: 'string', default: '3' },
    images: { type: 'string', default: '100' },
    'large-images': { type: 'string', default: '24' },
  },
});
const CLASSES = String(values.classes)
  .split(',')
  .map((c) => {
    const k = SIZE_CLASSES[c];
    if (!k) throw new Error(`--classes: expected some of ${Object.keys(SIZE_CLASSES).join(', ')}, got ${c}`);
    return k;
  });
const SECTIONS = new Set(String(values.sections).split(','));
const RUNS = Number(values.runs);
const N_SMALL = Number(values.images);
const N_LARGE = Number(values['large-images']);
// The largest photo the pipeline accepts by default (MAX_INPUT_PIXELS, 2^26 = 67.1 MP: the largest
// phone photos are 48-50 MP), so that the 64mp class passes.
const limits = { maxInputPixels: loadConfig({}).limits.maxInputPixels };
const opts = { quality: 85, limits };
const f1 = (x: number) => x.toFixed(1);

interface Photo {
  file: string;
  name: string;
  bytes: Buffer;
  width: number;
  height: number;
  resized: Buffer;
  detections: Detection[];
  modelInput: Float32Array;
}

async function load(files: string[], modelPath: string): Promise<Photo[]> {
  const out: Photo[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    const meta = await sharp(bytes).metadata();
    const resized = (await resizeImage(bytes, { scale: 0.25, ...opts })).data;
    const { detections } = await detectWithTimings(bytes, { modelPath, intraOpNumThreads: 1, limitInputPixels: limits.maxInputPixels });
    const modelInput = resizeBilinear(await decodeImage(bytes, limits.maxInputPixels), MODEL_SIZE, MODEL_SIZE);
    out.push({ file, name: path.basename(file), bytes, width: meta.width!, height: meta.height!, resized, detections, modelInput });
  }
  return out;
}

export interface StageFigures {
  stageMs: Record<string, number>;
  /** CPU ms of each stage, per photo, one at a time (what the bill turns into Lambda duration). */
  stageCpuMs: Record<string, number>;
  /** Median bytes of the class's photos. */
  photoBytes: number;
  /** CPU ms of all stages of one photo, one at a time. */
  cpuMs: number;
}

async function stages(k: SizeClass, photos: Photo[], modelPath: string): Promise<StageFigures> {
  const mp = median(photos.map((p) => (p.width * p.height) / 1e6));
  const mb = median(photos.map((p) => p.bytes.length / 1e6));
  console.log(`\n## ${k.name}: per-stage medians (${photos.length} photos, median ${f1(mp)} MP, ${f1(mb)} MB; ${RUNS} runs each)`);
  const vips = await vipsRefs();
  if (!vips) console.log('  vips / vipsthumbnail not found: install Debian libvips-tools; references skipped');
  const session = await loadSession({ modelPath, intraOpNumThreads: 1 });
  const cols = [...STAGES, 'detect original', 'model only', 'vips copy', 'vipsthumbnail', 'vips shrink-decode'] as const;
  type Col = (typeof cols)[number];
  const perPhoto = new Map<string, Record<Col, number[]>>();
  const perPhotoCpu = new Map<string, Record<Col, number[]>>();
  const steps: Record<string, number[]> = { decode: [], preprocess: [], inference: [], postprocess: [] };
  for (const p of photos) {
    const t: Record<Col, number[]> = Object.fromEntries(cols.map((c) => [c, [] as number[]])) as unknown as Record<Col, number[]>;
    const cpu: Record<Col, number[]> = Object.fromEntries(cols.map((c) => [c, [] as number[]])) as unknown as Record<Col, number[]>;
    perPhoto.set(p.name, t);
    perPhotoCpu.set(p.name, cpu);
    const rw = Math.round(p.width * 0.25);
    const rh = Math.round(p.height * 0.25);
    // Wall time, and CPU time of this process (all its threads): less moved by other jobs on the machine.
    const time = async (c: Col, fn: () => Promise<unknown> | unknown) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      t[c].push(performance.now() - t0);
      const used = process.cpuUsage(c0);
      cpu[c].push((used.user + used.system) / 1000);
    };
    const ref = (c: Col, cost: { wall: number; cpu: number }) => {
      t[c].push(cost.wall);
      cpu[c].push(cost.cpu);
    };
    for (let r = 0; r < RUNS + 1; r++) {
      const keep = r > 0; // the first round warms up
      const before = Object.fromEntries(cols.map((c) => [c, t[c].length]));
      await time('upload', () => inspectImage(p.bytes, limits));
      await time('resize', () => resizeImage(p.bytes, { scale: 0.25, ...opts }));
      await time('grayscale', () => grayscaleImage(p.resized, opts));
      // As the detect stage does it: from the 25 % copy when that keeps 600 px a side (detectSourceKey).
      const copy = resizedSize(p.width, p.height, 0.25);
      const source = Math.min(copy.width, copy.height) >= DECODE_MARGIN * MODEL_SIZE ? p.resized : p.bytes;
      let d: Awaited<ReturnType<typeof detectWithTimings>> | undefined;
      await time('detect', async () => {
        d = await detectWithTimings(source, { modelPath, intraOpNumThreads: 1, limitInputPixels: limits.maxInputPixels });
      });
      await time('detect original', () =>
        detectWithTimings(p.bytes, { modelPath, intraOpNumThreads: 1, limitInputPixels: limits.maxInputPixels }),
      );
      if (keep && d) for (const s of Object.keys(steps)) steps[s]!.push(d.timings[s as keyof typeof d.timings]);
      await time('model only', () => runModel(session, p.modelInput));
      await time('tag', () => drawDetections(p.bytes, p.detections, opts));
      if (vips) {
        ref('vips copy', vips.copy(p.file));
        ref('vipsthumbnail', vips.thumbnail(p.file, rw, rh));
        ref('vips shrink-decode', vips.shrinkDecode(p.file, decodeShrink(p.width, p.height)));
      }
      if (!keep) {
        for (const c of cols) t[c].length = before[c]!;
        for (const c of cols) cpu[c].length = before[c]!;
      }
    }
  }
  // Resize quality: PSNR of our 25 % copy and vipsthumbnail's against a full-size decode reduced
  // with Lanczos 3 (no shrink-on-load, no JPEG): shrink-on-load must not cost quality.
  const quality: string[] = [];
  if (vips && isLarge(k)) {
    const psnr = async (jpeg: Buffer, ref: Buffer) => {
      const px = await sharp(jpeg).raw().toBuffer();
      let se = 0;
      for (let i = 0; i < px.length; i++) se += (px[i]! - ref[i]!) ** 2;
      return 10 * Math.log10(255 ** 2 / (se / px.length));
    };
    const ours: number[] = [];
    const theirs: number[] = [];
    for (const p of photos) {
      const { width, height } = resizedSize(p.width, p.height, 0.25);
      const ref = await sharp(p.bytes).resize(width, height, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: false }).raw().toBuffer();
      ours.push(await psnr(p.resized, ref));
      theirs.push(await psnr(vips.thumbnailBytes(p.file, width, height), ref));
    }
    quality.push(
      `resize quality, median PSNR against a full decode + Lanczos 3: ours ${f1(median(ours))} dB, vipsthumbnail ${f1(median(theirs))} dB`,
    );
  }
  vips?.close();
  const med = (c: Col, m = perPhoto) => median([...m.values()].map((t) => median(t[c])));
  const ratio = (a: Col, b: Col, m = perPhoto) => median([...m.values()].map((t) => median(t[a]) / Math.max(1e-9, median(t[b]))));
  // GNU time counts CPU in 10 ms steps: a reference under 20 ms of CPU gives no ratio worth printing.
  const cpuRatio = (a: Col, b: Col) => (med(b, perPhotoCpu) < 20 ? 'n/a' : `${ratio(a, b, perPhotoCpu).toFixed(2)}x`);
  console.log(
    `  ${'stage'.padEnd(12)}${'wall ms'.padStart(9)}${'cpu ms'.padStart(9)}   reference (same photos, same run): wall ms, ratio (cpu ms, ratio)`,
  );
  const ref = (a: Col, b: Col, target: string) =>
    vips || b === 'model only'
      ? `${b} ${f1(med(b))} ms: ${ratio(a, b).toFixed(2)}x (cpu ${f1(med(b, perPhotoCpu))} ms: ${b === 'model only' ? `${ratio(a, b, perPhotoCpu).toFixed(2)}x` : cpuRatio(a, b)}) ${target}`
      : '';
  const rows: [Col | '', string][] = [
    ['upload', ''],
    ['resize', ref('resize', 'vipsthumbnail', 'target <= 1.0x')],
    ['grayscale', ''],
    ['detect', `${ref('detect', 'model only', 'target <= 2x')}; from the 25 % copy when it keeps 600 px a side`],
    ['detect original', ref('detect original', 'model only', '(the original, reduced decode)')],
    ['', vips ? ref('detect original', 'vips shrink-decode', "(the detector's reduced decode alone: a floor)") : ''],
    ['tag', ref('tag', 'vips copy', 'target <= 1.2x')],
  ];
  for (const [c, note] of rows) {
    const figures = c ? `${f1(med(c)).padStart(9)}${f1(med(c, perPhotoCpu)).padStart(9)}` : ' '.repeat(18);
    console.log(`  ${c.padEnd(12)}${figures}   ${note}`);
  }
  console.log(
    `  inside detect (median ms): ${Object.entries(steps)
      .map(([s, v]) => `${s} ${f1(median(v))}`)
      .join(', ')}`,
  );
  for (const q of quality) console.log(`  ${q}`);
  if (vips)
    console.log(
      `  (vips start-up, median ${f1(vips.startupMs)} ms, measured before each vips call and subtracted from it; ${vips.version})`,
    );
  return {
    stageMs: Object.fromEntries(STAGES.map((s) => [s, med(s)])),
    stageCpuMs: Object.fromEntries(STAGES.map((s) => [s, med(s, perPhotoCpu)])),
    photoBytes: median(photos.map((p) => p.bytes.length)),
    cpuMs: STAGES.reduce((a, s) => a + med(s, perPhotoCpu), 0),
  };
}

function memory(k: SizeClass, photos: Photo[], modelPath: string): void {
  console.log(`\n## ${k.name}: peak resident memory per stage (fresh process each, photos one at a time, 2 passes)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-mem-'));
  try {
    const inputs = {
      modelPath,
      photos: photos.map((p, i) => {
        const resizedFile = path.join(dir, `${i}.jpg`);
        writeFileSync(resizedFile, p.resized);
        return { file: p.file, resizedFile, detections: p.detections };
      }),
    };
    const file = path.join(dir, 'inputs.json');
    writeFileSync(file, JSON.stringify(inputs));
    // ingest (the bucket's notifications) beside the five: its own function.
    for (const stage of [...STAGES, 'ingest']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'bench/stage-memory.ts'), stage, file], {
        cwd: REPO,
        encoding: 'utf8',
      });
      if (r.status !== 0) {
        console.log(`  ${stage.padEnd(10)} failed: ${r.stderr.split('\n').slice(0, 3).join(' ')}`);
        continue;
      }
      const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { beforeMb: number; peakMb: number };
      console.log(`  ${stage.padEnd(10)} peak ${String(m.peakMb).padStart(5)} MB   (${m.beforeMb} MB before the work)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One `npm run pipeline` run under GNU time: what it printed and what it cost. */
interface PipelineRun {
  code: number | null;
  done: number;
  /** Seconds from the first upload to the last tagged photo (the CLI's own summary). */
  seconds?: number;
  imagesPerSecond?: number;
  /** User + system CPU of the whole process, start-up included, ms. */
  cpuMs?: number;
  maxRssMb?: number;
  wallSeconds: number;
}

async function runPipeline(files: string[], modelPath: string): Promise<PipelineRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-photos-'));
  const data = mkdtempSync(path.join(os.tmpdir(), 'bench-pipeline-'));
  files.forEach((f, i) => {
    copyFileSync(f, path.join(dir, `${String(i).padStart(3, '0')}-${path.basename(f)}`));
  });
  const t0 = performance.now();
  const child = spawn(
    '/usr/bin/time',
    // As a person runs it (package.json's script: its environment included), under GNU time.
    ['-f', 'GNU-TIME %e %U %S %M', 'npm', 'run', '-s', 'pipeline', '--', dir, '--json'],
    { cwd: REPO, env: { ...process.env, DATA_DIR: data, LOG_LEVEL: 'error', MODEL_PATH: modelPath } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallSeconds = (performance.now() - t0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
  const done = stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { status: string })
    .filter((l) => l.status === 'done').length;
  const summary = /in ([\d.]+) s \(([\d.]+) images\/s\)/.exec(stderr);
  const time = /GNU-TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  return {
    code,
    done,
    wallSeconds,
    ...(summary ? { seconds: Number(summary[1]), imagesPerSecond: Number(summary[2]) } : {}),
    ...(time ? { cpuMs: (Number(time[2]) + Number(time[3])) * 1000, maxRssMb: Math.round(Number(time[4]) / 1024) } : {}),
  };
}

/**
 * Runs `npm run pipeline` on the files under GNU time (npm's own start-up is in the whole run's CPU,
 * and subtracted with the rest of the start-up): images/s, the process's CPU time per photo
 * and its peak resident memory (GNU time's maximum RSS of the child). Beside it, in the same run:
 * - the floor: `vips copy` (one full decode and encode) of each of the same photos, one after the
 *   other, measured right before and right after the pipeline (the mean of the two: the load may
 *   change while it runs); the pipeline's time from first upload to last tagged over the sum;
 * - the start-up: the same command on the first photo alone, so that the CPU per photo can be
 *   given without it ((whole run - one-photo run) / (photos - 1)).
 * `stageCpuMs`, when known, is the CPU the stages themselves need per photo, one at a time: the
 * process's CPU beyond it is the runtime's (queues, status records, files), and cores x 1000 /
 * stageCpuMs the throughput bound.
 */
async function sustained(label: string, files: string[], modelPath: string, stageCpuMs?: number): Promise<void> {
  const load = () => os.loadavg()[0]!.toFixed(1);
  console.log(`\n## ${label}: sustained throughput, npm run pipeline on ${files.length} photos (embedded default; load average ${load()})`);
  const vips = await vipsRefs();
  const floor = () => files.reduce((a, f) => a + vips!.copy(f).wall, 0) / 1000;
  const before = vips ? floor() : undefined;
  const run = await runPipeline(files, modelPath);
  const after = vips ? floor() : undefined;
  const one = await runPipeline(files.slice(0, 1), modelPath);
  vips?.close();
  console.log(`  ${run.done}/${files.length} tagged; exit ${run.code}`);
  if (run.seconds !== undefined) {
    console.log(`  sustained: ${run.imagesPerSecond} images/s (${run.seconds} s from first upload to last tagged)`);
    if (before !== undefined && after !== undefined) {
      const mean = (before + after) / 2;
      console.log(
        `  floor: vips copy of the same ${files.length} photos, one after the other, ${mean.toFixed(1)} s (${before.toFixed(1)} before, ${after.toFixed(1)} after): ` +
          `the pipeline takes ${(run.seconds / mean).toFixed(2)}x the floor; target <= 1.0x (load average ${load()})`,
      );
    }
  }
  if (run.maxRssMb !== undefined)
    console.log(`  peak resident memory of the pipeline process: ${run.maxRssMb} MB (GNU time, maximum RSS); target <= 800 MB`);
  if (run.cpuMs !== undefined) {
    const whole = run.cpuMs / files.length;
    const startup = one.cpuMs;
    const marginal = startup !== undefined && files.length > 1 ? (run.cpuMs - startup) / (files.length - 1) : undefined;
    const vsStages = (ms: number) => (stageCpuMs ? ` (${((ms / stageCpuMs - 1) * 100).toFixed(0)} % over the stages')` : '');
    console.log(`  CPU of the whole process: ${whole.toFixed(0)} ms a photo, start-up included${vsStages(whole)}`);
    if (marginal !== undefined)
      console.log(
        `  CPU a photo past start-up: ${marginal.toFixed(0)} ms${vsStages(marginal)}, target within 15 %; start-up and one photo: ${(startup! / 1000).toFixed(1)} s CPU`,
      );
    if (stageCpuMs)
      console.log(
        `  the stages alone need ${stageCpuMs.toFixed(0)} ms (one at a time; bound on ${os.availableParallelism()} free cores: ${((os.availableParallelism() * 1000) / stageCpuMs).toFixed(1)} images/s)`,
      );
  }
  console.log(`  whole command, start-up included: ${run.wallSeconds.toFixed(1)} s`);
}

async function main(): Promise<void> {
  console.log(
    `# Pipeline benchmark (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; the machine may be shared: read the ratios)`,
  );
  const modelPath = await ensureModel();
  const figures = new Map<string, StageFigures>();
  const files = new Map<string, string[]>();
  for (const k of [...CLASSES]) {
    let list: string[];
    try {
      list = await photosFor(k, (m) => console.log(m));
    } catch (error) {
      // The real photos come from Debian's registry: elsewhere the class is left out, said so.
      if (!k.real) throw error;
      console.log(`\n## real: left out: ${error instanceof Error ? error.message : String(error)}`);
      CLASSES.splice(CLASSES.indexOf(k), 1);
      continue;
    }
    files.set(k.name, list);
    if (!SECTIONS.has('stages') && !SECTIONS.has('memory') && !SECTIONS.has('bill')) continue;
    const photos = await load(list, modelPath);
    if (SECTIONS.has('stages') || SECTIONS.has('bill')) figures.set(k.name, await stages(k, photos, modelPath));
    if (SECTIONS.has('memory')) memory(k, photos, modelPath);
  }
  if (SECTIONS.has('sustained')) {
    const small = files.get('small');
    if (small)
      await sustained(
        `small (${N_SMALL} copies of the fixtures)`,
        Array.from({ length: N_SMALL }, (_, i) => small[i % small.length]!),
        modelPath,
        figures.get('small')?.cpuMs,
      );
    // The upscaled classes interleaved (as real uploads mix sizes), then the real photos alone.
    const groups = [CLASSES.filter((k) => k.megapixels), CLASSES.filter((k) => k.real)].filter((g) => g.length > 0);
    for (const group of groups) {
      const perClass = group.map((k) => files.get(k.name)!);
      const mixed = Array.from({ length: N_LARGE }, (_, i) => {
        const list = perClass[i % perClass.length]!;
        return list[Math.floor(i / perClass.length) % list.length]!;
      });
      const cpus = group.map((k) => figures.get(k.name)?.cpuMs);
      const largeCpu = cpus.every((c) => c !== undefined) ? cpus.reduce((a, c) => a! + c!, 0)! / cpus.length : undefined;
      const distinct = new Set(mixed).size;
      await sustained(`large set (${group.map((k) => k.name).join(' + ')}; ${distinct} distinct photos)`, mixed, modelPath, largeCpu);
    }
  }
  if (SECTIONS.has('bill')) {
    const prices = readPrices();
    const functions = functionSettings();
    // Photos larger than POST /upload takes on Lambda come in through the bucket (POST /uploads).
    const uploadLimit = Math.min(loadConfig({}).limits.maxUploadBytes, LAMBDA_DIRECT_UPLOAD_BYTES);
    const countFiles = (files.get('small') ?? files.get(CLASSES[0]!.name)!).slice(0, 3);
    const counted = new Map<WayIn, Awaited<ReturnType<typeof countRequests>>>();
    const countsFor = async (wayIn: WayIn) => {
      if (!counted.has(wayIn)) {
        const run = await countRequests(countFiles, modelPath, wayIn);
        counted.set(wayIn, run);
        const c = run.counts;
        console.log(
          `\n## Requests per photo, in through ${wayIn === 'upload' ? 'POST /upload' : 'the bucket (POST /uploads, a form POST, ingest)'} (embedded pipeline, counted)`,
        );
        console.log(
          `  object writes ${f1(Object.values(run.putsByFolder).reduce((a, v) => a + v, 0))}: ${Object.entries(run.putsByFolder)
            .map(([k, v]) => `${k} ${f1(v)}`)
            .join(', ')}`,
        );
        console.log(`  S3 PUT-class ${f1(c.s3Puts)} (writes, COPY, LIST), GET-class ${f1(c.s3Gets)} (GET, HEAD)`);
        console.log(
          `  queue: ${f1(c.sqsSends)} messages sent, ${f1(c.sqsReceives)} received, ${f1(c.sqsDeletes)} deleted; logs at info ${(c.logBytes / 1000).toFixed(1)} KB`,
        );
      }
      return counted.get(wayIn)!;
    };
    console.log(
      `\n## SQS event sources (serverless.yml): ${Object.entries(functions)
        .filter(([, f]) => f.sqs)
        .map(([fn, f]) => `${fn} batchSize ${f.sqs!.batchSize}, window ${f.sqs!.batchingWindowSeconds} s`)
        .join('; ')}`,
    );
    // The detect function's cold start, measured here as Lambda pays it (bench/lambdaInit.ts).
    const colds = await measureDetectInit({ runs: 3 });
    const mid = <T>(xs: T[], f: (x: T) => number) => xs.map(f).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const init = { detect: mid(colds, coldExtraCpuMs) };
    console.log(
      `  detect cold start: +${init.detect.toFixed(0)} ms of CPU over a warm invocation (+${mid(colds, coldExtraMs).toFixed(0)} ms wall on this machine; median of 3 fresh processes, bench/detect.bench.ts shows its parts); ${(COLD_START_RATE * 100).toFixed(0)} % of invocations assumed cold`,
    );
    for (const [name, fig] of figures) {
      const wayIn: WayIn = fig.photoBytes > uploadLimit ? 'bucket' : 'upload';
      const { counts } = await countsFor(wayIn);
      const input: BillInput = {
        stageCpuMs: fig.stageCpuMs,
        counts,
        functions,
        prices,
        photosPerSecond: MILLION_A_MONTH,
        photoBytes: fig.photoBytes,
        init,
      };
      printBill(
        `${name} (${(fig.photoBytes / 1e6).toFixed(1)} MB, in through ${wayIn === 'upload' ? 'POST /upload' : 'the bucket'})`,
        bill(input),
        input,
      );
      // What a batching window would change at this rate (serverless.yml sets none: no added latency).
      const windowed = Object.fromEntries(
        Object.entries(functions).map(([fn, f]) => [fn, f.sqs ? { ...f, sqs: { ...f.sqs, batchingWindowSeconds: 20 } } : f]),
      );
      const alt = bill({ ...input, functions: windowed });
      console.log(
        `  (with maximumBatchingWindow 20 s on every queue: batches of ${alt.perFunction.resize?.batch.toFixed(1)}, total $${alt.total.toFixed(2)}, and up to 20 s more per stage)`,
      );
    }
    console.log(
      `  assumptions: ${MILLION_A_MONTH.toFixed(2)} photos/s, steady; Lambda CPU = memory/${prices.lambda.mb_per_vcpu} MB of one vCPU (the CPU measured here, one thread);`,
    );
    console.log(
      `  ${IO_MS} ms in-region wait per store or queue call; ${(COLD_START_RATE * 100).toFixed(0)} % of invocations cold; Lambda's own log lines ${LAMBDA_LOG_BYTES_PER_INVOCATION} bytes an invocation;`,
    );
    console.log('  not included: status polling by clients, idle long polls of the event source mappings, storage, data transfer.');
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

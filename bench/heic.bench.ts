/**
 * HEIC benchmark: 12 MP photos as phones write them (a grid of 512 px tiles, HEVC), each made from
 * the same picture as a 12 MP JPEG (bench/photos.ts; the HEIC by libheif 1.23's heif-enc, x265,
 * test/helpers/largeHeic.ts), measured in the same run, photo by photo, interleaved:
 *
 *   npx tsx bench/heic.bench.ts [--images 3] [--runs 3]
 *
 * decode    our decode (libheif-js, WebAssembly, src/image/heif) against Debian's native decoder on the
 *           same file (`heif-dec`, `heif-convert` on Debian 12: libheif + libde265, to a Y4M file in
 *           memory, so no encoder is timed), and libheif 1.23's native heif-dec (PyPI) when installed;
 *           each command's start-up (the same command on a 64 px HEIC, run just before) subtracted.
 *           Target: ours within 2x of Debian's.
 * pipeline  the stages' work for the HEIC against the same picture as JPEG, one photo at a time:
 *           upload's check, resize, grayscale, detect (from the 25 % copy, as the detect stage does at
 *           12 MP) and tag. Target: the HEIC at most 2x the JPEG.
 * Wall and CPU milliseconds (the process's own CPU; GNU time's for the commands, in 10 ms steps):
 * the machine may be shared, so read the ratios to references from the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ensureModel } from '../models/ensure-model';
import { debianHeifTools, heifToolVersion, recentHeifTools } from '../scripts/fixtures/heifTools';
import { detectWithTimings } from '../src/detect/Detector';
import { drawDetections } from '../src/image/drawDetections';
import { grayscaleImage } from '../src/image/grayscaleImage';
import { decodeHeif } from '../src/image/heif/decodeHeif';
import { inspectImage } from '../src/image/openImage';
import { resizeImage } from '../src/image/resizeImage';
import { largeHeic } from '../test/helpers/largeHeic';
import { photosFor, SIZE_CLASSES } from './photos';
import { median } from './stats';

const { values } = parseArgs({
  strict: false,
  options: { images: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' } },
});
const IMAGES = Number(values.images);
const RUNS = Number(values.runs);
const limits = { maxInputPixels: 2 ** 26 };
const opts = { quality: 85, limits };
const TIME = '/usr/bin/time';
const f0 = (x: number) => x.toFixed(0);

interface Cost {
  wall: number;
  cpu: number;
}

async function measure(fn: () => Promise<unknown>): Promise<Cost> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const used = process.cpuUsage(c0);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

function command(cmd: string, args: string[]): Cost {
  const t0 = performance.now();
  const r = existsSync(TIME)
    ? spawnSync(TIME, ['-f', '%U %S', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  const [user = Number.NaN, system = Number.NaN] = existsSync(TIME) ? r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) : [];
  return { wall, cpu: (user + system) * 1000 };
}

/** A native decoder's image work on a file: its run on the file, less its run on a tiny HEIC just before. */
function nativeDecode(dec: string, file: string, tiny: string, out: string): Cost {
  const start = command(dec, ['--quiet', tiny, out]);
  const whole = command(dec, ['--quiet', file, out]);
  return { wall: Math.max(0, whole.wall - start.wall), cpu: Math.max(0, whole.cpu - start.cpu) };
}

async function main(): Promise<void> {
  console.log(
    `# HEIC benchmark (${os.availableParallelism()} cores, node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; the machine may be shared: read the ratios)`,
  );
  const debian = debianHeifTools();
  let recent: string | undefined;
  try {
    recent = recentHeifTools().dec;
  } catch (error) {
    console.log(`  libheif 1.23's native heif-dec not available (${(error as Error).message}): that reference is skipped`);
  }
  const modelPath = await ensureModel();
  const jpegs = (await photosFor(SIZE_CLASSES['12mp']!, (m) => console.log(`  ${m}`))).slice(0, IMAGES);
  const dir = mkdtempSync(path.join('/dev/shm', 'heic-bench-'));
  try {
    const tiny = path.join(dir, 'tiny.heic');
    writeFileSync(tiny, largeHeic(await sharp(readFileSync(jpegs[0]!)).resize(64, 48).jpeg().toBuffer()));
    const photos = jpegs.map((file) => {
      const jpeg = readFileSync(file);
      const heic = largeHeic(jpeg);
      const heicFile = path.join(dir, `${path.basename(file, '.jpg')}.heic`);
      writeFileSync(heicFile, heic);
      return { name: path.basename(file), jpeg, heic, heicFile };
    });
    const sizes = await Promise.all(photos.map(async (p) => sharp(p.jpeg).metadata()));
    console.log(
      `\n## ${photos.length} photos, median ${(median(sizes.map((m) => m.width! * m.height!)) / 1e6).toFixed(1)} MP; ` +
        `HEIC median ${(median(photos.map((p) => p.heic.length)) / 1e6).toFixed(1)} MB, JPEG ${(median(photos.map((p) => p.jpeg.length)) / 1e6).toFixed(1)} MB; ${RUNS} runs each (after one to warm up)`,
    );

    // ---- decode ----
    const ours: Cost[] = [];
    const deb: Cost[] = [];
    const rec: Cost[] = [];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (const p of photos) {
      const mine: Cost[] = [];
      const theirs: Cost[] = [];
      for (let r = 0; r <= RUNS; r++) {
        const a = await measure(() => decodeHeif(p.heic, limits));
        const b = nativeDecode(debian.dec, p.heicFile, tiny, path.join(dir, 'out.y4m'));
        const c = recent ? nativeDecode(recent, p.heicFile, tiny, path.join(dir, 'out.y4m')) : undefined;
        if (r === 0) continue;
        mine.push(a);
        theirs.push(b);
        if (c) rec.push(c);
      }
      ours.push(...mine);
      deb.push(...theirs);
      ratios.push(median(mine.map((c) => c.wall)) / median(theirs.map((c) => c.wall)));
      cpuRatios.push(median(mine.map((c) => c.cpu)) / median(theirs.map((c) => c.cpu)));
    }
    const med = (cs: Cost[], k: keyof Cost) => median(cs.map((c) => c[k]));
    console.log('\n## decode of the primary image, 12 MP grid HEIC (median ms)');
    console.log(`  ${'decoder'.padEnd(58)}${'wall'.padStart(8)}${'cpu'.padStart(8)}`);
    console.log(
      `  ${'ours: libheif-js 1.23.2 (WebAssembly), to RGB'.padEnd(58)}${f0(med(ours, 'wall')).padStart(8)}${f0(med(ours, 'cpu')).padStart(8)}`,
    );
    console.log(
      `  ${`Debian heif-dec (libheif ${heifToolVersion(debian.enc)}, native), to Y4M`.padEnd(58)}${f0(med(deb, 'wall')).padStart(8)}${f0(med(deb, 'cpu')).padStart(8)}`,
    );
    if (rec.length)
      console.log(
        `  ${'libheif 1.23.6 heif-dec (PyPI, native), to Y4M'.padEnd(58)}${f0(med(rec, 'wall')).padStart(8)}${f0(med(rec, 'cpu')).padStart(8)}`,
      );
    console.log(
      `  ours / Debian's, per photo then median: wall ${median(ratios).toFixed(2)}x, cpu ${median(cpuRatios).toFixed(2)}x (target <= 2x)`,
    );

    // ---- pipeline ----
    const stages = ['upload', 'resize', 'grayscale', 'detect', 'tag'] as const;
    const costs: Record<'heic' | 'jpeg', Record<string, Cost[]>> = {
      heic: Object.fromEntries(stages.map((s) => [s, []])),
      jpeg: Object.fromEntries(stages.map((s) => [s, []])),
    };
    const totalRatios: number[] = [];
    const totalCpuRatios: number[] = [];
    for (const p of photos) {
      const totals: Record<'heic' | 'jpeg', Cost[]> = { heic: [], jpeg: [] };
      for (let r = 0; r <= RUNS; r++) {
        for (const kind of ['jpeg', 'heic'] as const) {
          const bytes = kind === 'heic' ? p.heic : p.jpeg;
          const run: Record<string, Cost> = {};
          run.upload = await measure(() => inspectImage(bytes, limits));
          let resized: Buffer = Buffer.alloc(0);
          run.resize = await measure(async () => {
            resized = (await resizeImage(bytes, { scale: 0.25, ...opts })).data;
          });
          run.grayscale = await measure(() => grayscaleImage(resized, opts));
          let detections: Awaited<ReturnType<typeof detectWithTimings>>['detections'] = [];
          run.detect = await measure(async () => {
            detections = (await detectWithTimings(resized, { modelPath, intraOpNumThreads: 1, limitInputPixels: limits.maxInputPixels }))
              .detections;
          });
          run.tag = await measure(() => drawDetections(bytes, detections, opts));
          if (r === 0) continue;
          for (const s of stages) costs[kind][s]!.push(run[s]!);
          totals[kind].push({ wall: stages.reduce((n, s) => n + run[s]!.wall, 0), cpu: stages.reduce((n, s) => n + run[s]!.cpu, 0) });
        }
      }
      totalRatios.push(med(totals.heic, 'wall') / med(totals.jpeg, 'wall'));
      totalCpuRatios.push(med(totals.heic, 'cpu') / med(totals.jpeg, 'cpu'));
    }
    console.log('\n## through the pipeline: the same picture as HEIC and as JPEG, stage by stage (median ms, wall / cpu)');
    console.log(`  ${'stage'.padEnd(12)}${'HEIC'.padStart(16)}${'JPEG'.padStart(16)}`);
    for (const s of stages) {
      const cell = (k: 'heic' | 'jpeg') => `${f0(med(costs[k][s]!, 'wall'))} / ${f0(med(costs[k][s]!, 'cpu'))}`;
      console.log(`  ${s.padEnd(12)}${cell('heic').padStart(16)}${cell('jpeg').padStart(16)}`);
    }
    console.log(
      `  HEIC / JPEG, all stages, per photo then median: wall ${median(totalRatios).toFixed(2)}x, cpu ${median(totalCpuRatios).toFixed(2)}x (target <= 2x)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Pipeline benchmark: `npx tsx bench/pipeline.bench.ts [--seconds N] [--images 100]`.
 * 1. Per-stage median ms on the shared fixtures (the cores each stage runs, no queue).
 * 2. Our sharp resize against vipsthumbnail (Debian's libvips-tools) on the same files, same
 *    output size and JPEG quality, measured in the same run; vipsthumbnail gets all copies of one
 *    photo in one process, so its start-up is spread over them.
 * 3. Sustained images/s of `npm run pipeline` on a folder of N photos (copies of the fixtures).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ensureModel } from '../models/ensure-model';
import { REPO_ROOT as REPO } from '../scripts/repoRoot';
import { detect } from '../src/detect';
import { drawDetections } from '../src/draw/drawDetections';
import { grayscaleImage } from '../src/image/grayscaleImage';
import { inspectImage } from '../src/image/openImage';
import { resizeImage } from '../src/image/resizeImage';
import { fixtureNames, fixturePath, readFixture } from '../test/helpers/fixtures';
import { fmt, median, timeRuns } from './stats';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, images: { type: 'string', default: '100' } } });
const BUDGET = Number(values.seconds) * 1000;
const N_IMAGES = Number(values.images);
const limits = { maxInputPixels: 40_000_000 };
const opts = { quality: 85, limits };

async function perStage(modelPath: string): Promise<void> {
  console.log('\n## Per-stage median on the fixtures (ms per image, one at a time)');
  const names = fixtureNames();
  const rows: Array<[string, number]> = [];
  const per = async (label: string, fn: (name: string) => Promise<unknown>) => {
    const medians: number[] = [];
    for (const name of names) medians.push(median(await timeRuns(() => fn(name), BUDGET / names.length, 3)));
    rows.push([label, median(medians)]);
  };
  const bytes = new Map(names.map((n) => [n, readFixture(n)]));
  const resized = new Map<string, Buffer>();
  for (const n of names) resized.set(n, (await resizeImage(bytes.get(n)!, { scale: 0.25, ...opts })).data);
  const found = new Map<string, Awaited<ReturnType<typeof detect>>>();
  for (const n of names) found.set(n, await detect(bytes.get(n)!, { modelPath }));
  await per('upload (header check)', (n) => inspectImage(bytes.get(n)!, limits));
  await per('resize 25 %', (n) => resizeImage(bytes.get(n)!, { scale: 0.25, ...opts }));
  await per('grayscale', (n) => grayscaleImage(resized.get(n)!, opts));
  await per('detect (original)', (n) => detect(bytes.get(n)!, { modelPath }));
  await per('tag (draw + JPEG)', (n) => drawDetections(bytes.get(n)!, found.get(n)!, opts));
  for (const [label, ms] of rows) console.log(`${label.padEnd(24)} ${fmt(ms).padStart(10)}`);
  console.log(`${'sum'.padEnd(24)} ${fmt(rows.reduce((a, [, m]) => a + m, 0)).padStart(10)}`);
}

async function resizeVsVips(dir: string): Promise<void> {
  console.log(`\n## Resize 25 %: sharp (this project) vs vipsthumbnail, ${N_IMAGES} photos, JPEG q85`);
  const vips = spawnSync('vipsthumbnail', ['--vips-version'], { encoding: 'utf8' });
  if (vips.status !== 0) {
    console.log('vipsthumbnail not found: install Debian libvips-tools (apt-get install libvips-tools); skipped');
    return;
  }
  const groups = new Map<string, string[]>();
  for (let i = 0; i < N_IMAGES; i++) {
    const name = fixtureNames()[i % fixtureNames().length]!;
    groups.set(name, [...(groups.get(name) ?? []), path.join(dir, `${String(i).padStart(3, '0')}-${name}`)]);
  }
  const sizes = new Map<string, string>();
  for (const name of groups.keys()) {
    const m = await sharp(fixturePath(name)).metadata();
    sizes.set(name, `${Math.round(m.width! * 0.25)}x${Math.round(m.height! * 0.25)}!`);
  }
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-vips-'));
  const sharpRuns: number[] = [];
  const vipsRuns: number[] = [];
  // Alternate the two, three rounds each, so machine noise hits both alike.
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    for (const files of groups.values()) {
      for (const f of files) await resizeImage(readFileSync(f), { scale: 0.25, ...opts });
    }
    sharpRuns.push(performance.now() - t0);
    t0 = performance.now();
    for (const [name, files] of groups) {
      execFileSync('vipsthumbnail', [...files, '--size', sizes.get(name)!, '-o', `${out}/%s.jpg[Q=85]`]);
    }
    vipsRuns.push(performance.now() - t0);
  }
  rmSync(out, { recursive: true, force: true });
  const s = median(sharpRuns) / N_IMAGES;
  const v = median(vipsRuns) / N_IMAGES;
  console.log(`sharp          ${fmt(s)} per image (median of 3 rounds; reads the file too)`);
  console.log(`vipsthumbnail  ${fmt(v)} per image (${vips.stdout.trim()})`);
  console.log(`ratio sharp/vipsthumbnail = ${(s / v).toFixed(2)}x (target <= 1.0)`);
}

function sustained(dir: string): void {
  console.log(`\n## Sustained throughput: npm run pipeline on ${N_IMAGES} photos (embedded default)`);
  const data = mkdtempSync(path.join(os.tmpdir(), 'bench-pipeline-'));
  const t0 = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/pipeline.ts'), dir, '--json'], {
    cwd: REPO,
    env: { ...process.env, DATA_DIR: data, LOG_LEVEL: 'error' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  rmSync(data, { recursive: true, force: true });
  const lines = run.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { status: string });
  const done = lines.filter((l) => l.status === 'done').length;
  const summary = /in ([\d.]+) s \(([\d.]+) images\/s\)/.exec(run.stderr);
  console.log(`${done}/${N_IMAGES} tagged; exit ${run.status}`);
  if (summary) console.log(`sustained: ${summary[2]} images/s (${summary[1]} s from first upload to last tagged; target >= 20)`);
  console.log(`whole command, start-up included: ${wall.toFixed(1)} s`);
}

async function main(): Promise<void> {
  console.log(`# Pipeline benchmark (${os.cpus().length} cores, node ${process.version})`);
  const modelPath = await ensureModel();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-photos-'));
  mkdirSync(dir, { recursive: true });
  const names = fixtureNames();
  for (let i = 0; i < N_IMAGES; i++) {
    const name = names[i % names.length]!;
    copyFileSync(fixturePath(name), path.join(dir, `${String(i).padStart(3, '0')}-${name}`));
  }
  await perStage(modelPath);
  await resizeVsVips(dir);
  sustained(dir);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

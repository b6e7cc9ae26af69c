/**
 * Real-size photos for the benchmarks, made from the fixtures at bench time and cached in
 * .cache/bench-photos/<class>/ (never committed): each fixture scaled (Lanczos 3, aspect kept) to
 * about N megapixels, with deterministic per-channel noise of +-NOISE grey levels, encoded as JPEG
 * q92 with 4:2:0 chroma. An upscale alone is smooth and would compress to a fraction of a camera
 * file, which flatters decode and encode; the noise brings the entropy (and so the Huffman decode
 * cost) to what a 12-24 MP phone photo has: about 0.3 bytes a pixel, 3.5 MB at 12 MP, 7 MB at 24 MP.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT as REPO } from '../scripts/repoRoot';
import { fixtureNames, fixturePath } from '../test/helpers/fixtures';
import { realPhotos } from './realPhotos';

const CACHE = path.join(REPO, '.cache', 'bench-photos');
const NOISE = 12;
const QUALITY = 92;
/** Bumped when the recipe changes, so stale caches are rebuilt. */
const RECIPE = `lanczos3+noise${NOISE}+q${QUALITY}+420/v1`;

export interface SizeClass {
  /** `small` (the fixtures as they are), `<N>mp` (made from them) or `real` (Debian's photos, bench/realPhotos.ts). */
  name: string;
  megapixels?: number;
  /** Real camera photos of 6-20 MP instead of fixtures. */
  real?: boolean;
}

/** Photos of 6 MP and more: the large set of the sustained run. */
export const isLarge = (k: SizeClass): boolean => k.megapixels !== undefined || k.real === true;

export const SIZE_CLASSES: Record<string, SizeClass> = {
  small: { name: 'small' },
  '12mp': { name: '12mp', megapixels: 12 },
  '24mp': { name: '24mp', megapixels: 24 },
  // The largest photo accepted (MAX_INPUT_PIXELS 2^26, 67.1 MP): what each function's memorySize is set from.
  '64mp': { name: '64mp', megapixels: 64 },
  // 13 real camera photos of 6-20 MP (Debian's wallpapers), fetched once: see bench/realPhotos.ts.
  real: { name: 'real', real: true },
};

/** Deterministic noise (mulberry32), one stream per photo. */
function addNoise(data: Buffer, seed: number, amplitude: number): void {
  let s = seed | 0;
  for (let i = 0; i < data.length; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    const v = data[i]! + Math.round((r - 0.5) * 2 * amplitude);
    data[i] = Math.max(0, Math.min(255, v));
  }
}

/** Width and height of a `megapixels` photo with the fixture's aspect. */
export function scaledSize(width: number, height: number, megapixels: number): { width: number; height: number } {
  const k = Math.sqrt((megapixels * 1e6) / (width * height));
  return { width: Math.round(width * k), height: Math.round(height * k) };
}

async function makePhoto(name: string, megapixels: number, out: string): Promise<void> {
  const meta = await sharp(fixturePath(name)).metadata();
  const { width, height } = scaledSize(meta.width!, meta.height!, megapixels);
  const { data } = await sharp(fixturePath(name))
    .rotate()
    .removeAlpha()
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  let seed = megapixels;
  for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
  addNoise(data, seed, NOISE);
  const jpeg = await sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: QUALITY, chromaSubsampling: '4:2:0' })
    .toBuffer();
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, jpeg);
  renameSync(tmp, out);
}

/** The photos of a size class (paths), made once and cached; `small` is the fixtures themselves. */
export async function photosFor(sizeClass: SizeClass, log: (m: string) => void = () => {}): Promise<string[]> {
  if (sizeClass.real) return realPhotos(path.join(CACHE, 'real'), log);
  const names = fixtureNames();
  if (!sizeClass.megapixels) return names.map(fixturePath);
  const dir = path.join(CACHE, sizeClass.name);
  const stamp = path.join(dir, 'RECIPE');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== RECIPE) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.jpg')) rmSync(path.join(dir, f));
    writeFileSync(stamp, RECIPE);
  }
  const files: string[] = [];
  for (const name of names) {
    const out = path.join(dir, name.replace(/\.\w+$/, '.jpg'));
    if (!existsSync(out)) {
      log(`making ${path.relative(REPO, out)} (${sizeClass.megapixels} MP)…`);
      await makePhoto(name, sizeClass.megapixels, out);
    }
    files.push(out);
  }
  return files;
}

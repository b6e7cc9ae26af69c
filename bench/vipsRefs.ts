/**
 * The libvips command-line references the pipeline is measured against, on the same photo in the
 * same run (Debian's libvips-tools): `vips copy in.jpg out.jpg[Q=85]` (a full decode and encode:
 * the floor for tag), `vipsthumbnail` (resize) and `vips copy in.jpg[shrink=N] out.v` (the reduced
 * decode the detector needs). Each is one process per photo; the process start-up (the same command
 * on a 1x1 JPEG, run right before, so both see the same load on a shared machine) is subtracted,
 * so what is left is the image work.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { median } from './stats';

export interface VipsRefs {
  version: string;
  /** ms of image work (start-up subtracted) for one call. */
  copy(file: string): Cost;
  thumbnail(file: string, width: number, height: number): Cost;
  /** The JPEG vipsthumbnail makes of the file at that size (for a quality comparison). */
  thumbnailBytes(file: string, width: number, height: number): Buffer;
  shrinkDecode(file: string, shrink: number): Cost;
  /** Median start-up subtracted so far. */
  readonly startupMs: number;
  close(): void;
}

/** Wall and CPU (user + system, from GNU time, 10 ms resolution) milliseconds of one command. */
export interface Cost {
  wall: number;
  cpu: number;
}

function run(cmd: string, args: string[]): Cost {
  const t0 = performance.now();
  const r = spawnSync(TIME, ['-f', '%U %S', cmd, ...args], { encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  const [user = 0, system = 0] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: (user + system) * 1000 };
}

const TIME = '/usr/bin/time';

/** The references, or undefined when libvips-tools is not installed (the caller says so). */
export async function vipsRefs(): Promise<VipsRefs | undefined> {
  const probe = spawnSync('vips', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0 || spawnSync('vipsthumbnail', ['--vips-version']).status !== 0) return undefined;
  if (spawnSync(TIME, ['-f', '%U', 'true']).status !== 0) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-vips-'));
  const tiny = path.join(dir, 'tiny.jpg');
  writeFileSync(
    tiny,
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#888' } })
      .jpeg()
      .toBuffer(),
  );
  const out = (name: string) => path.join(dir, name);
  const startups: number[] = [];
  const less = (a: Cost, b: Cost): Cost => ({ wall: Math.max(0, a.wall - b.wall), cpu: Math.max(0, a.cpu - b.cpu) });
  const vipsStart = () => run('vips', ['copy', tiny, `${out('t.jpg')}[Q=85]`]);
  const thumbStart = () => run('vipsthumbnail', [tiny, '--size', '1x1!', '-o', `${out('%s-t.jpg')}[Q=85]`]);
  const net = (start: () => Cost, work: () => Cost) => {
    const base = start();
    startups.push(base.wall);
    return less(work(), base);
  };
  vipsStart(); // the first start reads the binaries from disk
  return {
    version: probe.stdout.trim(),
    get startupMs() {
      return median(startups);
    },
    copy: (file) => net(vipsStart, () => run('vips', ['copy', file, `${out('copy.jpg')}[Q=85]`])),
    thumbnail: (file, w, h) =>
      net(thumbStart, () => run('vipsthumbnail', [file, '--size', `${w}x${h}!`, '-o', `${out('%s-thumb.jpg')}[Q=85]`])),
    thumbnailBytes: (file, w, h) => {
      run('vipsthumbnail', [file, '--size', `${w}x${h}!`, '-o', `${out('q-%s.jpg')}[Q=85]`]);
      return readFileSync(out(`q-${path.basename(file, path.extname(file))}.jpg`));
    },
    shrinkDecode: (file, shrink) => net(vipsStart, () => run('vips', ['copy', `${file}[shrink=${shrink}]`, out('shrunk.v')])),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

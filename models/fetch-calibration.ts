/**
 * The int8 model's calibration photos (models/calibration-photos.json): natural photos that are
 * not the accuracy fixtures, from a pinned Debian package. `apt-get download` fetches the .deb into
 * .cache/calibration/ (once), its sha256 is checked, `dpkg-deb --fsys-tarfile | tar` extracts the
 * listed photos, and each photo's sha256 is checked. CALIBRATION_DIR points to a folder that already
 * holds them (same names, same bytes), for a machine without apt.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ModelBuildError } from './errors';
import { REPO_ROOT } from './paths';

export interface CalibrationRecord {
  debian: { package: string; version: string; sha256: string; folder: string; licence: string };
  photos: { name: string; sha256: string }[];
}

export const CALIBRATION_RECORD = path.join(REPO_ROOT, 'models', 'calibration-photos.json');

export function readCalibrationRecord(): CalibrationRecord {
  return JSON.parse(readFileSync(CALIBRATION_RECORD, 'utf8')) as CalibrationRecord;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Files of the record missing from `dir` or with other bytes. */
function mismatches(dir: string, record: CalibrationRecord): string[] {
  return record.photos.filter((p) => !existsSync(path.join(dir, p.name)) || sha256(path.join(dir, p.name)) !== p.sha256).map((p) => p.name);
}

/** The folder holding the calibration photos, fetched and checked first when needed. */
export function ensureCalibrationPhotos(log: (m: string) => void = () => {}): string {
  const record = readCalibrationRecord();
  const { debian } = record;
  if (process.env.CALIBRATION_DIR) {
    const dir = path.resolve(process.env.CALIBRATION_DIR);
    const bad = mismatches(dir, record);
    if (bad.length)
      throw new ModelBuildError(
        `CALIBRATION_DIR ${dir}: expected the photos of models/calibration-photos.json, missing or different: ${bad.join(', ')}`,
      );
    return dir;
  }
  const dir = path.join(REPO_ROOT, '.cache', 'calibration', `${debian.package}_${debian.version}`);
  if (mismatches(dir, record).length === 0) return dir;

  const work = mkdtempSync(path.join(REPO_ROOT, '.cache', 'calibration-'));
  try {
    log(`fetching the calibration photos: apt-get download ${debian.package}=${debian.version}…`);
    const download = () => spawnSync('apt-get', ['download', `${debian.package}=${debian.version}`], { cwd: work, encoding: 'utf8' });
    let got = download();
    // A fresh machine may have no package lists yet: as root, fetch them once and try again (as
    // scripts/install-system-deps.sh does before installing).
    if (got.status !== 0 && process.getuid?.() === 0) {
      log('apt-get download failed; running apt-get update once…');
      spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
      got = download();
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (got.status !== 0 || !deb) {
      throw new ModelBuildError(
        `calibration photos: apt-get download ${debian.package}=${debian.version} failed (${(got.stderr || got.error?.message || '').trim().split('\n').at(-1)}). ` +
          'Run `apt-get update` first (Debian or Ubuntu), or set CALIBRATION_DIR to a folder with the photos of models/calibration-photos.json',
      );
    }
    const debSha = sha256(path.join(work, deb));
    if (debSha !== debian.sha256) {
      throw new ModelBuildError(
        `calibration photos: ${deb} has sha256 ${debSha}, expected ${debian.sha256} (models/calibration-photos.json)`,
      );
    }
    const extracted = path.join(work, 'x');
    mkdirSync(extracted);
    const members = record.photos.map((p) => `./${debian.folder}/${p.name}`);
    const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', path.join(work, deb)], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', extracted, ...members], { input: tar });
    const from = path.join(extracted, debian.folder);
    const bad = mismatches(from, record);
    if (bad.length)
      throw new ModelBuildError(`calibration photos: extracted files differ from models/calibration-photos.json: ${bad.join(', ')}`);
    mkdirSync(path.dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(from, dir);
    log(`calibration photos: ${record.photos.length} photos in ${path.relative(REPO_ROOT, dir)} (sha256 checked)`);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

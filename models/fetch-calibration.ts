/**
 * The int8 model's calibration photos (models/calibration-photos.json): natural photos that are
 * neither the accuracy fixtures nor the evaluation photos, from a pinned Debian package, fetched and
 * checked by models/registry-files.ts into .cache/calibration/ (once). CALIBRATION_DIR points to a
 * folder that already holds them (same names, same bytes), for a machine without apt.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelBuildError } from './errors';
import { REPO_ROOT } from './paths';
import { ensureSourceFiles, mismatchedFiles, type PhotoSource } from './registry-files';

export interface CalibrationRecord {
  debian: Extract<PhotoSource, { registry: 'debian' }>;
  photos: { name: string; sha256: string }[];
}

export const CALIBRATION_RECORD = path.join(REPO_ROOT, 'models', 'calibration-photos.json');

export function readCalibrationRecord(): CalibrationRecord {
  const record = JSON.parse(readFileSync(CALIBRATION_RECORD, 'utf8')) as CalibrationRecord;
  return { ...record, debian: { ...record.debian, registry: 'debian' } };
}

/** The folder holding the calibration photos, fetched and checked first when needed. */
export function ensureCalibrationPhotos(log: (m: string) => void = () => {}): string {
  const { debian, photos } = readCalibrationRecord();
  if (process.env.CALIBRATION_DIR) {
    const dir = path.resolve(process.env.CALIBRATION_DIR);
    const bad = mismatchedFiles(dir, photos);
    if (bad.length)
      throw new ModelBuildError(
        `CALIBRATION_DIR ${dir}: expected the photos of models/calibration-photos.json, missing or different: ${bad.join(', ')}`,
      );
    return dir;
  }
  const dir = path.join(REPO_ROOT, '.cache', 'calibration', `${debian.package}_${debian.version}`);
  try {
    return ensureSourceFiles(debian, photos, dir, log);
  } catch (cause) {
    throw new ModelBuildError(
      `calibration photos: ${(cause as Error).message}; or set CALIBRATION_DIR to a folder with the photos of models/calibration-photos.json`,
      { cause },
    );
  }
}

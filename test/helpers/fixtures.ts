import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { isImageFileName } from '../../src/domain/imageFormats';

/** The test fixtures: `images/` and `reference-detections.json`, in the repository; FIXTURES_DIR overrides. */
export const FIXTURES_DIR = process.env.FIXTURES_DIR ?? path.resolve(REPO_ROOT, 'test/fixtures');
export const FIXTURE_IMAGES_DIR = path.join(FIXTURES_DIR, 'images');

export interface ReferenceDetection {
  label: string;
  score: number;
  /** [x, y, width, height] in pixels of the original image. */
  bbox: [number, number, number, number];
}
export interface ReferenceImage {
  width: number;
  height: number;
  detections: ReferenceDetection[];
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_IMAGES_DIR).filter(isImageFileName).sort();
}

export function fixturePath(name: string): string {
  return path.join(FIXTURE_IMAGES_DIR, name);
}

export function readFixture(name: string): Buffer {
  return readFileSync(fixturePath(name));
}

export function referenceDetections(): Record<string, ReferenceImage> {
  const raw = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'reference-detections.json'), 'utf8')) as {
    images: Record<string, ReferenceImage>;
  };
  return raw.images;
}

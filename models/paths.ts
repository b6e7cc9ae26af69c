import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's root folder, from this file: models/ is a build tool of its own and imports
 * nothing of scripts/ (scripts/repoRoot.ts is the same folder, for the scripts, tests and benches).
 */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where `npm pack` puts the source tarball and where it is extracted; ignored by git. */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache', 'models');

/** The committed provenance record: pins the source and the bytes we expect to produce. */
export const RECORD_PATH = path.join(REPO_ROOT, 'models', 'ssdlite_mobilenet_v2_coco.json');

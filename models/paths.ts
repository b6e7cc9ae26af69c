import path from 'node:path';
import { REPO_ROOT } from '../scripts/repoRoot';

export { REPO_ROOT };

/** Where `npm pack` puts the source tarball and where it is extracted; ignored by git. */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache', 'models');

/** The committed provenance record: pins the source and the bytes we expect to produce. */
export const RECORD_PATH = path.join(REPO_ROOT, 'models', 'ssdlite_mobilenet_v2_coco.json');

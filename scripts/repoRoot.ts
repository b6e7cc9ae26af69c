import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's root folder, whatever the current directory: for scripts, tools, tests and
 * benches, which live in the repository. Code under src/ never uses it: in a Lambda bundle there
 * is no repository (src/ finds what it needs next to itself or through the config).
 */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

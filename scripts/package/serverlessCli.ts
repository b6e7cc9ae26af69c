import path from 'node:path';
import { REPO_ROOT } from '../repoRoot';

/**
 * The Serverless Framework CLI the project runs: osls 4.x (the open-source fork, no login, no
 * download), installed under the package name `serverless` (`"serverless": "npm:osls@…"` in
 * package.json) so that serverless-offline 14's peer dependency on `serverless ^4` is met by it
 * instead of npm fetching the login-only `serverless` 4 installer.
 */
export const SLS_BIN = path.join(REPO_ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../repoRoot';
import { CheckerInstallError } from './errors';

export interface Checkers {
  cfnLint: string;
  checkov: string;
}

const INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'infra', 'install.sh');

/**
 * cfn-lint and checkov from the hash-pinned venv in .cache/infra/ (scripts/infra/install.sh):
 * about 35 s the first time on 2 cores, at once afterwards. The installer takes a lock, so
 * concurrent callers wait for one install instead of racing. Its log goes to stderr.
 */
export async function installCheckers(): Promise<Checkers> {
  let stdout = '';
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [INSTALL_SCRIPT], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  }).catch((cause: unknown) => {
    throw new CheckerInstallError(`Could not run ${INSTALL_SCRIPT}: expected bash on PATH`, { cause });
  });
  if (code !== 0) {
    throw new CheckerInstallError(
      `Installing the infrastructure checkers failed: expected 'bash scripts/infra/install.sh' to exit 0, it exited ${code} (its log is above)`,
    );
  }
  const bin = stdout.trim().split('\n').at(-1) ?? '';
  const checkers = { cfnLint: path.join(bin, 'cfn-lint'), checkov: path.join(bin, 'checkov') };
  for (const file of Object.values(checkers)) {
    if (!existsSync(file)) throw new CheckerInstallError(`scripts/infra/install.sh exited 0 but left no ${file}`);
  }
  return checkers;
}

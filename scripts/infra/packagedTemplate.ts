import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureLayerModels } from '../../models/ensure-model';
import { buildFunctions } from '../package/build-functions';
import { SLS_BIN } from '../package/serverlessCli';
import { REPO_ROOT } from '../repoRoot';
import { StackPackageError } from './errors';

/** What `sls package` writes and the checkers read. */
export const TEMPLATE = path.join(REPO_ROOT, '.serverless', 'cloudformation-template-update-stack.json');

/** Everything the template (and the zips beside it) is made from. */
const INPUTS = ['serverless.yml', 'functions', 'src', 'scripts/package', 'layers'];

function newestMtime(file: string): number {
  if (!existsSync(file)) return 0;
  const s = statSync(file);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(file).reduce((newest, child) => Math.max(newest, newestMtime(path.join(file, child))), 0);
}

/**
 * The packaged CloudFormation template of stage `dev` in us-east-1, as `npm run package` makes it
 * (osls, offline, dummy credentials): packaged again only when an input is newer than it.
 */
export async function packagedTemplate(log: (line: string) => void = () => undefined): Promise<string> {
  const inputs = Math.max(...INPUTS.map((p) => newestMtime(path.join(REPO_ROOT, p))));
  if (existsSync(TEMPLATE) && statSync(TEMPLATE).mtimeMs > inputs) return TEMPLATE;
  log('[infra] packaging the stack (build:functions, then sls package offline)…');
  await ensureLayerModels(); // the model layer's files
  await buildFunctions({ log: () => undefined });
  const run = spawnSync(process.execPath, [SLS_BIN, 'package', '--stage', 'dev', '--region', 'us-east-1'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 240_000,
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_OFFLINE_PACKAGE: '1',
      AWS_ACCESS_KEY_ID: 'dummy',
      AWS_SECRET_ACCESS_KEY: 'dummy',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
    },
  });
  if (run.status !== 0 || !existsSync(TEMPLATE)) {
    throw new StackPackageError(
      `sls package: expected exit 0 and ${path.relative(REPO_ROOT, TEMPLATE)}, got exit ${run.status ?? run.signal}:\n${run.stdout}\n${run.stderr}`,
    );
  }
  return TEMPLATE;
}

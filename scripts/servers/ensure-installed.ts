import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../repoRoot';
import { ServerInstallError } from './errors';

export type ServerName = 'minio' | 'versitygw' | 'elasticmq';

export const installScript = join(REPO_ROOT, 'scripts', 'servers', 'install.sh');
export const binDir = join(REPO_ROOT, '.bin');
export const elasticMqLibDir = join(REPO_ROOT, '.cache', 'elasticmq', 'lib');

/** What a first install costs here (2 cores), measured; shown before the installer runs. */
const firstInstallHint: Record<ServerName, string> = {
  minio: 'building MinIO once from the Go module proxy, about 3 to 5 minutes on 2 cores',
  versitygw: 'building the Versity S3 gateway once from the Go module proxy, about 1 to 2 minutes on 2 cores',
  elasticmq: 'fetching ElasticMQ once from Maven Central, about 10 seconds',
};

/** The file whose presence (with its version stamp) means the server is installed. */
function installedMarker(name: ServerName): { artefact: string; stamp: string } {
  if (name === 'elasticmq') {
    return { artefact: elasticMqLibDir, stamp: join(REPO_ROOT, '.cache', 'elasticmq', '.version') };
  }
  return { artefact: join(binDir, name), stamp: join(binDir, `.${name}.version`) };
}

export function isInstalled(name: ServerName): boolean {
  const { artefact, stamp } = installedMarker(name);
  return existsSync(artefact) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() !== '';
}

/**
 * Runs `install.sh <name>` unless the server is already installed. The installer takes a lock,
 * so concurrent callers wait for one build instead of racing.
 */
export async function ensureInstalled(name: ServerName, log: (line: string) => void = defaultLog): Promise<void> {
  if (isInstalled(name)) return;
  log(`[servers] ${firstInstallHint[name]}… (cached afterwards in .bin/ and .cache/)`);
  const started = Date.now();
  const code = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn('bash', [installScript, name], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => resolvePromise(exitCode ?? (signal ? 128 : 1)));
  }).catch((cause: unknown) => {
    throw new ServerInstallError(`Could not run ${installScript}: expected bash on PATH`, { cause });
  });
  if (code !== 0) {
    throw new ServerInstallError(
      `Installing ${name} failed: expected 'bash scripts/servers/install.sh ${name}' to exit 0, it exited ${code} (its output is above)`,
    );
  }
  if (!isInstalled(name)) {
    throw new ServerInstallError(`Installing ${name} finished but left no ${installedMarker(name).artefact}`);
  }
  log(`[servers] ${name} installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

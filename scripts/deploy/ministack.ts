/**
 * MiniStack (PyPI `ministack`, MIT): an account-free AWS emulator — S3, SQS, Lambda, API Gateway v2,
 * IAM, CloudFormation — on one port, running Node handlers in local worker processes (no Docker).
 *
 *   await ensureMiniStack();                  // .cache/ministack/venv, pinned with hashes, once
 *   const ms = await startMiniStack({ port }); // on 127.0.0.1; a free port when port is 0
 *   await ms.stop();
 *
 * The version and every transitive dependency are pinned with hashes in
 * scripts/deploy/ministack-requirements.txt and installed with `pip install --require-hashes`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../repoRoot';
import { ServerInstallError } from '../servers/errors';
import { freePort, httpOk, LOOPBACK, LocalServer, launch, makeRunDir } from '../servers/local-server';

const run = promisify(execFile);

export const MINISTACK_VERSION = '1.5.33';
export const MINISTACK_REQUIREMENTS = path.join(REPO_ROOT, 'scripts', 'deploy', 'ministack-requirements.txt');
export const MINISTACK_VENV = path.join(REPO_ROOT, '.cache', 'ministack', 'venv');
const MINISTACK_BIN = path.join(MINISTACK_VENV, 'bin', 'ministack');
/** Holds the sha256 of the requirements the venv was made from: a changed file reinstalls. */
const STAMP = path.join(MINISTACK_VENV, '.requirements.sha256');

/** The account and credentials MiniStack answers for (it checks no signature unless AUTH=true). */
export const MINISTACK_ACCOUNT = { accountId: '000000000000', accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' } as const;

function requirementsHash(): string {
  return createHash('sha256').update(readFileSync(MINISTACK_REQUIREMENTS)).digest('hex');
}

export function isMiniStackInstalled(): boolean {
  return existsSync(MINISTACK_BIN) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === requirementsHash();
}

/** Creates .cache/ministack/venv with python3 and installs the pinned, hash-checked requirements. */
export async function ensureMiniStack(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  if (isMiniStackInstalled()) return MINISTACK_BIN;
  const python = process.env.PYTHON ?? 'python3';
  log(`[deploy] installing MiniStack ${MINISTACK_VERSION} into ${path.relative(REPO_ROOT, MINISTACK_VENV)} (pip --require-hashes)…`);
  try {
    await rm(MINISTACK_VENV, { recursive: true, force: true });
    await mkdir(path.dirname(MINISTACK_VENV), { recursive: true });
    await run(python, ['-m', 'venv', MINISTACK_VENV], { timeout: 120_000 });
    await run(
      path.join(MINISTACK_VENV, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', '--require-hashes', '-r', MINISTACK_REQUIREMENTS],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (cause) {
    const e = cause as { stderr?: string; message?: string };
    throw new ServerInstallError(
      `could not install MiniStack ${MINISTACK_VERSION} with ${python}: ${(e.stderr || e.message || String(cause)).trim().split('\n').slice(-5).join('\n')}\n` +
        'MiniStack needs Python 3.10 or newer with venv (Debian: apt-get install python3-venv); set PYTHON to another interpreter.',
      { cause },
    );
  }
  writeFileSync(STAMP, `${requirementsHash()}\n`);
  return MINISTACK_BIN;
}

export interface MiniStackOptions {
  /** Port on 127.0.0.1; 0 (or none) picks a free one. `npm run deploy:local` uses 4566, as LocalStack. */
  port?: number;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Starts MiniStack on 127.0.0.1 and resolves once /_ministack/health answers. Its environment is
 * built here, not inherited: MiniStack hands its own environment to every Lambda worker it spawns
 * (ministack/core/lambda_runtime.py: `{**os.environ, **function env}`), which AWS never does, so
 * nothing of the calling shell (MODEL_PATH, STORE, AWS_*…) may leak into the functions. PATH starts
 * with this Node's folder: MiniStack runs `node` from PATH for nodejs24.x functions.
 */
export async function startMiniStack(options: MiniStackOptions = {}): Promise<LocalServer> {
  const bin = await ensureMiniStack(options.log);
  const port = options.port || (await freePort());
  const runDir = await makeRunDir('ministack');
  const endpoint = `http://${LOOPBACK}:${port}`;
  const server = new LocalServer({
    spec: {
      name: 'ministack',
      command: bin,
      args: [],
      isolatedEnv: true,
      env: {
        PATH: [path.dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter),
        HOME: process.env.HOME ?? runDir,
        LANG: 'C.UTF-8',
        TMPDIR: runDir,
        GATEWAY_PORT: String(port),
        BIND_HOST: LOOPBACK,
        S3_DATA_DIR: path.join(runDir, 's3'),
        STATE_DIR: path.join(runDir, 'state'),
        LOG_LEVEL: 'INFO',
        MINISTACK_REGION: MINISTACK_ACCOUNT.region,
      },
      probe: (signal) => httpOk(`${endpoint}/_ministack/health`, signal),
    },
    port,
    endpoint,
    dataDir: runDir,
    runDir,
    ownedPaths: [runDir],
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
  });
  return launch(server);
}

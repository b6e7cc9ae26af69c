import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildModel } from './build';
import { ModelBuildError } from './errors';
import { CACHE_DIR } from './paths';
import { type ModelRecord, modelPath, readRecord } from './record';

/** Rough wall time of a build from a cold cache (npm pack of 17 MB + about a second to convert). */
const ABOUT_SECONDS = 5;
const LOCK_DIR = path.join(CACHE_DIR, 'build.lock');
const WAIT_LIMIT_MS = 5 * 60_000;

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(path.join(LOCK_DIR, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means the process exists but is not ours: still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One builder at a time across processes (node --test runs test files in parallel): mkdir is
 * atomic, so whoever creates the lock builds; the others get `false`, wait a little and look again.
 */
async function tryWithBuildLock(work: () => void): Promise<boolean> {
  mkdirSync(CACHE_DIR, { recursive: true });
  try {
    mkdirSync(LOCK_DIR);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A lock left by a crashed build would block forever; take it over once its owner is gone.
    if (existsSync(path.join(LOCK_DIR, 'pid')) && !holderAlive()) rmSync(LOCK_DIR, { recursive: true, force: true });
    await sleep(200);
    return false;
  }
  try {
    writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
    work();
    return true;
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

/** True when `file` holds exactly the bytes the record describes (size first: it is free). */
function isRecordedModel(file: string, record: ModelRecord): boolean {
  if (!existsSync(file) || statSync(file).size !== record.onnx.bytes) return false;
  return createHash('sha256').update(readFileSync(file)).digest('hex') === record.onnx.sha256;
}

/**
 * Returns the path of the float ONNX model, building it first if it is missing or is not the one
 * the record describes (say, left from before a converter change). Hashing costs about 50 ms.
 */
export async function ensureFloatModel(): Promise<string> {
  const record = readRecord();
  const file = modelPath(record);
  const deadline = Date.now() + WAIT_LIMIT_MS;
  let announced = false;
  while (!isRecordedModel(file, record)) {
    if (Date.now() > deadline) throw new ModelBuildError(`model ${file} did not appear within ${WAIT_LIMIT_MS / 1000} s`);
    if (!announced) {
      const why = existsSync(file) ? 'model differs from models/ssdlite_mobilenet_v2_coco.json' : 'model missing';
      process.stderr.write(`${why}, building it once (about ${ABOUT_SECONDS} s)…\n`);
      announced = true;
    }
    await tryWithBuildLock(() => {
      if (!isRecordedModel(file, record)) buildModel({ log: (m) => process.stderr.write(`${m}\n`) });
    });
  }
  return file;
}

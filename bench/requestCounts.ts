/**
 * Counts the store and queue calls a photo costs, end to end, by running a few photos through the
 * embedded pipeline with counting wrappers around its store and queue. The same calls are S3 and
 * SQS requests on AWS (the stages do not know which adapter they have).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/app/createApp';
import { loadConfig } from '../src/config';
import type { ObjectStore } from '../src/ports/ObjectStore';
import type { Queue } from '../src/ports/Queue';
import { startEmbedded } from '../src/runtime/startEmbedded';
import { StatusWatcher } from '../src/status/StatusWatcher';
import { acceptUpload } from '../src/upload/acceptUpload';
import type { RequestCounts } from './bill';

export interface CountedRun {
  counts: RequestCounts;
  /** Object writes per photo by key folder (original, resized, status, ...). */
  putsByFolder: Record<string, number>;
}

export async function countRequests(files: string[], modelPath: string): Promise<CountedRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-counts-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'error', MODEL_PATH: modelPath });
  // The app's own ports, wrapped: every call passes through and is counted.
  const app = createApp({ config });
  const deps = { store: app.store, queue: app.queue };
  const puts: string[] = [];
  let gets = 0;
  let sends = 0;
  let received = 0;
  let deletes = 0;
  const store: ObjectStore = Object.create(deps.store) as ObjectStore;
  store.put = (key, body, options) => {
    puts.push(key);
    return deps.store.put(key, body, options);
  };
  store.get = (key) => {
    gets++;
    return deps.store.get(key);
  };
  const queue: Queue = Object.create(deps.queue) as Queue;
  queue.send = (name, body) => {
    sends++;
    return deps.queue.send(name, body);
  };
  queue.receive = async (name, options) => {
    const got = await deps.queue.receive(name, options);
    received += got.length;
    return got;
  };
  queue.delete = (name, handle) => {
    deletes++;
    return deps.queue.delete(name, handle);
  };
  // Told of each stage record as it is written (as npm run pipeline waits): no polling reads to count.
  const watcher = new StatusWatcher();
  const counted = { ...app, store: watcher.wrap(store), queue };
  const embedded = await startEmbedded(counted);
  try {
    for (const file of files) {
      const accepted = await acceptUpload(readFileSync(file), counted);
      const outcome = await watcher.waitFor(accepted.image_id, 120_000);
      if (outcome.status !== 'done') throw new Error(`request count run: ${file} ended ${outcome.status}`);
    }
  } finally {
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const n = files.length;
  const putsByFolder: Record<string, number> = {};
  for (const key of puts) {
    const folder = key.startsWith('status/') ? `status/${key.split('/')[2]}` : key.split('/')[0]!;
    putsByFolder[folder] = (putsByFolder[folder] ?? 0) + 1 / n;
  }
  // Per stage: resize, grayscale and tag read one image and write it (+ status); detect reads one.
  const statusPerStage = (puts.filter((k) => k.startsWith('status/')).length / n - 1) / 4; // upload writes one
  return {
    counts: {
      s3Puts: puts.length / n,
      s3Gets: gets / n,
      sqsSends: sends / n,
      sqsReceives: received / n,
      sqsDeletes: deletes / n,
      lambdaInvocations: 5,
      apiRequests: 1,
      callsPerStage: {
        upload: 1 + 1 + 1,
        resize: 2 + 1 + statusPerStage,
        grayscale: 2 + 1 + statusPerStage,
        detect: 1 + 1 + statusPerStage,
        tag: 2 + statusPerStage,
      },
    },
    putsByFolder,
  };
}

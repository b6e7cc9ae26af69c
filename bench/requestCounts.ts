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
import { STAGE_FOLDERS } from '../src/domain/keys';
import { STAGE_OF_FOLDER } from '../src/domain/pipeline';
import { STAGES, type StageName } from '../src/domain/stages';
import type { Queue } from '../src/ports/Queue';
import { startEmbedded } from '../src/runtime/startEmbedded';
import { StatusWatcher } from '../src/status/StatusWatcher';
import { acceptUpload } from '../src/upload/acceptUpload';
import { countingStore } from '../test/helpers/countingStore';
import type { RequestCounts } from './bill';

export interface CountedRun {
  counts: RequestCounts;
  /** Object writes per photo by key folder (original, resized, status/<stage>, labels, ...). */
  putsByFolder: Record<string, number>;
}

export async function countRequests(files: string[], modelPath: string): Promise<CountedRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-counts-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'error', MODEL_PATH: modelPath });
  // The app's own ports, wrapped: every call passes through and is counted.
  const app = createApp({ config });
  const deps = { store: app.store, queue: app.queue };
  // The same counting decorator as test/e2e/object-writes.test.ts: every put (and any other
  // `put…` write) and every read, passed through to the real store.
  const { store, calls } = countingStore(deps.store);
  let sends = 0;
  let received = 0;
  let deletes = 0;
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
  const puts = calls.writes;
  const putsByFolder: Record<string, number> = {};
  for (const key of puts) {
    const folder = key.startsWith('status/') ? `status/${key.split('/')[2]!.replace('.json', '')}` : key.split('/')[0]!;
    putsByFolder[folder] = (putsByFolder[folder] ?? 0) + 1 / n;
  }
  // Store and queue calls each stage waits on, from the writes counted for it (its image, its status
  // records; tag's label-index entries go out together, one wait) plus the image it reads (upload
  // none, the others one) and the message it sends (tag none).
  const writesOf = (stage: StageName): number => {
    const folder = STAGE_FOLDERS.find((f) => STAGE_OF_FOLDER[f] === stage);
    return (putsByFolder[`status/${stage}`] ?? 0) + (folder ? (putsByFolder[folder] ?? 0) : 0);
  };
  const callsPerStage = Object.fromEntries(
    STAGES.map((stage) => [
      stage,
      writesOf(stage) + (stage === 'upload' ? 0 : 1) + (stage === 'tag' ? 0 : 1) + (stage === 'tag' && putsByFolder.labels ? 1 : 0),
    ]),
  );
  return {
    counts: {
      s3Puts: puts.length / n,
      s3Gets: calls.reads.get / n,
      sqsSends: sends / n,
      sqsReceives: received / n,
      sqsDeletes: deletes / n,
      lambdaInvocations: 5,
      apiRequests: 1,
      callsPerStage,
    },
    putsByFolder,
  };
}

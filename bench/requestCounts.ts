/**
 * Counts the store and queue calls a photo costs, end to end, by running a few photos through the
 * embedded pipeline with counting wrappers around its store and queue. The same calls are S3 and
 * SQS requests on AWS (the stages do not know which adapter they have). Two ways in, as on AWS:
 * - `upload`: POST /upload carries the photo (acceptUpload), for photos under its byte limit;
 * - `bucket`: the photo is POSTed to the bucket with a form from POST /uploads, and the bucket's
 *   notification (S3 sends it to ingest_queue) starts the pipeline through the ingest function.
 * Also counted: the bytes the functions log at the deployed level (info), for CloudWatch Logs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/app/createApp';
import { loadConfig } from '../src/config';
import { newImageId } from '../src/domain/imageId';
import { parseRecordKey, STAGE_FOLDERS, uploadKey } from '../src/domain/keys';
import { LOCAL_OWNER, OWNERS_FOLDER } from '../src/domain/owners';
import { STAGE_OF_FOLDER } from '../src/domain/pipeline';
import { STAGES, type StageName } from '../src/domain/stages';
import { objectCreatedNotification } from '../src/ingest/s3Notification';
import type { Queue } from '../src/ports/Queue';
import { startEmbedded } from '../src/runtime/startEmbedded';
import { StatusWatcher } from '../src/status/StatusWatcher';
import { acceptUpload } from '../src/upload/acceptUpload';
import { countingStore } from '../test/helpers/countingStore';

/** How a photo enters: POST /upload, or a form POST to the bucket and its notification. */
export type WayIn = 'upload' | 'bucket';

/** Store and queue calls one photo costs, end to end (counted on the embedded pipeline). */
export interface RequestCounts {
  wayIn: WayIn;
  /** PUT-class requests: object writes (the form POST included), COPY and LIST. */
  s3Puts: number;
  /** GET-class requests: GET and HEAD. */
  s3Gets: number;
  /** Messages sent to a queue (one SendMessage each; S3's notification included). */
  sqsSends: number;
  /** Messages received (they arrive in batches: bench/bill.ts turns them into requests). */
  sqsReceives: number;
  /** Messages deleted (likewise in batches). */
  sqsDeletes: number;
  /** Completion events published ("Image Tagged"). */
  events: number;
  /** Bytes the functions log at level info (their own lines; Lambda's START/END/REPORT are the bill's). */
  logBytes: number;
  /** Store and queue calls each function makes (for the I/O wait in its duration). */
  callsPerFunction: Record<string, number>;
}

export interface CountedRun {
  counts: RequestCounts;
  /**
   * Object writes per photo by key folder (original, resized, labels, ...): the photo's record (the
   * owner's index entry) counts as `record`, a `status/<id>/<stage>.json` as `status/<stage>`.
   */
  putsByFolder: Record<string, number>;
}

export async function countRequests(files: string[], modelPath: string, wayIn: WayIn = 'upload'): Promise<CountedRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-counts-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'info', MODEL_PATH: modelPath, EVENTS: 'off' });
  let logBytes = 0;
  // The app's own ports, wrapped: every call passes through and is counted.
  const app = createApp({ config, logSink: (line) => (logBytes += Buffer.byteLength(line) + 1) });
  // The same counting decorator as test/e2e/object-writes.test.ts: every put… write, copy and read.
  const { store, calls } = countingStore(app.store);
  let sends = 0;
  let received = 0;
  let deletes = 0;
  const sendsByQueue: Record<string, number> = {};
  const queue: Queue = Object.create(app.queue) as Queue;
  queue.send = (name, body) => {
    sends++;
    sendsByQueue[name] = (sendsByQueue[name] ?? 0) + 1;
    return app.queue.send(name, body);
  };
  queue.receive = async (name, options) => {
    const got = await app.queue.receive(name, options);
    received += got.length;
    return got;
  };
  queue.delete = (name, handle) => {
    deletes++;
    return app.queue.delete(name, handle);
  };
  // Told of each stage record as it is written (as npm run pipeline waits): no polling reads to count.
  const watcher = new StatusWatcher();
  const counted = { ...app, store: watcher.wrap(store), queue };
  const embedded = await startEmbedded(counted);
  // The log lines of the start-up (model load and the like) are not a photo's.
  logBytes = 0;
  try {
    for (const file of files) {
      const bytes = readFileSync(file);
      let imageId: string;
      // This machine's one person's photos, as AUTH=none's callers'.
      if (wayIn === 'upload') imageId = (await acceptUpload(bytes, counted, { owner: LOCAL_OWNER })).image_id;
      else {
        // The browser's form POST writes uploads/<owner>/<id>.<ext>; S3 sends its notification to ingest_queue.
        imageId = newImageId();
        const key = uploadKey(imageId, 'jpg', LOCAL_OWNER);
        await counted.store.put(key, bytes, { contentType: 'image/jpeg' });
        await queue.send(config.queues.ingest, objectCreatedNotification(config.bucket, key, bytes.length));
      }
      const outcome = await watcher.waitFor(imageId, 120_000);
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
    // The photo's record (the owner's index entry) as `record`, a status object of the layout before
    // it as its stage's; the owner's label entries as the label index.
    const record = parseRecordKey(key);
    const folder = record
      ? record.photo.owner !== undefined
        ? 'record'
        : `status/${record.stage}`
      : key.startsWith(`${OWNERS_FOLDER}/`) && key.split('/')[2] === 'labels'
        ? 'labels'
        : key.split('/')[0]!;
    putsByFolder[folder] = (putsByFolder[folder] ?? 0) + 1 / n;
  }
  // Store and queue calls each function waits on: the writes counted for it (its image, with its
  // done record as metadata; tag's label-index entries go out together, one wait), the image it
  // reads (upload none, the others one), the read of the photo's record each queue stage makes when
  // it ends (was the photo deleted meanwhile?) and the message it sends (tag none). The photo's
  // record is written by the upload (ingest: its claim, then its record) and rewritten once by
  // detect, which writes no image: of the record's writes counted, one is detect's.
  const recordWrites = putsByFolder.record ?? 0;
  const detectsRecord = Math.min(1, recordWrites);
  const writesOf = (stage: StageName): number => {
    const folder = STAGE_FOLDERS.find((f) => STAGE_OF_FOLDER[f] === stage);
    const record = stage === 'upload' ? recordWrites - detectsRecord : stage === 'detect' ? detectsRecord : 0;
    return (putsByFolder[`status/${stage}`] ?? 0) + record + (folder ? (putsByFolder[folder] ?? 0) : 0);
  };
  const callsPerFunction: Record<string, number> = Object.fromEntries(
    STAGES.map((stage) => [
      stage,
      writesOf(stage) + (stage === 'upload' ? 0 : 2) + (stage === 'tag' ? 0 : 1) + (stage === 'tag' && putsByFolder.labels ? 1 : 0),
    ]),
  );
  if (wayIn === 'bucket') {
    // On this way in the upload stage is the ingest function's (src/ingest/ingestUpload.ts): head,
    // a read of the object (its check), the copy to original/, its records and the resize message.
    callsPerFunction.ingest = (calls.reads.head + calls.copies) / n + 1 + writesOf('upload') + 1;
    callsPerFunction.upload = 0;
  }
  return {
    counts: {
      wayIn,
      s3Puts: (puts.length + calls.copies + calls.reads.list) / n,
      // A HEAD (each stage's look for the photo's record: was it deleted meanwhile?) costs a GET.
      s3Gets: (calls.reads.get + calls.reads.head + calls.reads.exists) / n,
      sqsSends: sends / n,
      sqsReceives: received / n,
      sqsDeletes: deletes / n,
      events: 1,
      logBytes: logBytes / n,
      callsPerFunction,
    },
    putsByFolder,
  };
}
